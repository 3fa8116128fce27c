/**
 * Statuses as published in file mode: the compiler's conditions merged over the previous ones, so
 * lastTransitionTime moves only when a condition's status changes (the same rule the Kubernetes writer follows).
 */
import { type Condition, mergeConditions, type ResourceStatus } from '../resources/status.ts';

/** A published status. */
export interface PublishedStatus {
  readonly observedGeneration?: number;
  readonly conditions: readonly Condition[];
  readonly [field: string]: unknown;
}

/** Keeps the latest status of every resource. */
export class StatusStore {
  #statuses = new Map<string, PublishedStatus>();
  /** The compiler's status each published one was made from. */
  #inputs = new Map<string, ResourceStatus>();

  /** Replaces all statuses with the compiler's; returns the refs whose conditions changed. */
  update(statuses: readonly ResourceStatus[], now: Date): string[] {
    const next = new Map<string, PublishedStatus>();
    const inputs = new Map<string, ResourceStatus>();
    const changed: string[] = [];
    const time = now.toISOString();
    const shared = new Map<string, Condition>();
    for (const s of statuses) {
      const prev = this.#statuses.get(s.ref);
      inputs.set(s.ref, s);
      // Unchanged (the usual case for all but a few of thousands of resources): keep what was published.
      const before = this.#inputs.get(s.ref);
      if (prev && before && sameInput(before, s)) {
        next.set(s.ref, prev);
        continue;
      }
      const conditions = mergeConditions(
        (prev?.conditions ?? []).filter((c) => s.conditions.some((n) => n.type === c.type)),
        s.conditions,
        s.observedGeneration,
        time,
        shared,
      );
      const published: PublishedStatus = {
        ...(s.observedGeneration !== undefined ? { observedGeneration: s.observedGeneration } : {}),
        ...s.fields,
        conditions,
      };
      if (!prev || JSON.stringify(prev.conditions.map(strip)) !== JSON.stringify(conditions.map(strip)))
        changed.push(s.ref);
      next.set(s.ref, published);
    }
    this.#statuses = next;
    this.#inputs = inputs;
    return changed;
  }

  get(ref: string): PublishedStatus | undefined {
    return this.#statuses.get(ref);
  }

  /** All statuses keyed by ref, sorted. */
  all(): Record<string, PublishedStatus> {
    return Object.fromEntries([...this.#statuses].sort(([a], [b]) => a.localeCompare(b)));
  }
}

function strip(c: Condition): unknown {
  return [c.type, c.status, c.reason, c.message];
}

/** Same conditions (by type, status, reason, message, in order), generation and the very same fields object. */
function sameInput(a: ResourceStatus, b: ResourceStatus): boolean {
  if (a === b) return true;
  if (a.observedGeneration !== b.observedGeneration || a.fields !== b.fields) return false;
  if (a.conditions.length !== b.conditions.length) return false;
  for (let i = 0; i < a.conditions.length; i++) {
    const x = a.conditions[i]!;
    const y = b.conditions[i]!;
    if (x.type !== y.type || x.status !== y.status || x.reason !== y.reason || x.message !== y.message) return false;
  }
  return true;
}
