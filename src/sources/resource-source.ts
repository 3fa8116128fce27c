/**
 * Where a gateway's resources come from. The file source reads a directory; the Kubernetes source keeps informers'
 * caches. Both are level-triggered: `load` returns the whole current state, `watch` only says "something changed".
 */
import type { Diagnostic } from '../resources/diagnostics.ts';
import type { ResourceStatus } from '../resources/status.ts';
import type { ResourceSet, SourceLocation } from '../resources/types.ts';

/** The current state of a source. */
export interface SourceLoad {
  readonly resources: ResourceSet;
  /** Problems. In file mode an error rejects the whole change; a Kubernetes source leaves invalid objects out. */
  readonly diagnostics: readonly Diagnostic[];
  /** Equal hashes mean nothing changed. */
  readonly hash: string;
  /** Statuses of objects the source left out (invalid), published like the compiler's. */
  readonly rejected?: readonly ResourceStatus[];
  /** Where each object (by ref) was read, when the source is files: problems found later point there. */
  readonly locations?: ReadonlyMap<string, SourceLocation>;
}

/** A source of resources. */
export interface ResourceSource {
  /** For logs: the directory, or the cluster and namespaces. */
  readonly description: string;
  /** Whether the first full read has completed (readiness waits for it). */
  readonly synced: boolean;
  /** Reads the current state. */
  load(): Promise<SourceLoad>;
  /** Starts noticing changes; `onChange` may be called in bursts (the gateway coalesces). */
  watch(onChange: () => void): Promise<void>;
  close(): Promise<void>;
}
