/**
 * The expensive half of recording a revision — hashing the new document and diffing it with the previous one — done
 * in the document worker (docs/document-worker.ts), so a new 10 MB document does not hold the event loop for the
 * ~100 ms that takes. The worker keeps the last document it saw per version (bounded): the caller sends the new
 * document only, plus the hash of the previous one it knows; when the worker's copy is not that one (a new worker,
 * an evicted entry, a revision recorded elsewhere), it asks for the previous document too.
 */
import { isDeepStrictEqual } from 'node:util';
import { diffDocuments } from './diff.ts';
import { documentHash } from './revisions.ts';
import type { ApiChange } from './rules.ts';

type Json = Record<string, unknown>;

export interface RevisionJob {
  readonly op: 'revision';
  /** `api\0version`. */
  readonly key: string;
  readonly next: Json;
  /** The hash of the latest revision (absent for the first document of a version). */
  readonly previousHash?: string;
  /** The previous document, when the worker asked for it (undefined: the caller has none; compare by hash). */
  readonly previous?: Json | undefined;
  /** RFC 3339: the time the diff's sunset rules are judged at. */
  readonly now: string;
}

export type RevisionResult =
  | { readonly needPrevious: true }
  | {
      readonly needPrevious?: false;
      readonly hash: string;
      readonly changes: readonly ApiChange[];
      /** The same content as the previous document (another key order): not a revision. */
      readonly equal: boolean;
    };

const MAX_KEPT = 512;
const kept = new Map<string, { hash: string; document: Json }>();

export function processRevision(job: RevisionJob): RevisionResult {
  const hash = documentHash(job.next);
  const cached = kept.get(job.key);
  const previous =
    job.previous ?? (cached !== undefined && cached.hash === job.previousHash ? cached.document : undefined);
  if (job.previousHash !== undefined && hash !== job.previousHash && previous === undefined && !('previous' in job))
    return { needPrevious: true };
  kept.delete(job.key);
  kept.set(job.key, { hash, document: job.next });
  if (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value!);
  if (job.previousHash === undefined || previous === undefined) return { hash, changes: [], equal: false };
  if (hash === job.previousHash) return { hash, changes: [], equal: true };
  const changes = diffDocuments(previous, job.next, { now: new Date(job.now), normalized: true });
  return { hash, changes, equal: changes.length === 0 && isDeepStrictEqual(previous, job.next) };
}
