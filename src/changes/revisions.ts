/**
 * Revisions of published API documents. Whenever the document of a ModelAPI version changes, a revision is recorded:
 * its content hash, time, source, the resource generation and the changes from the previous revision (diff engine).
 * History is bounded per version; in file mode it survives restarts in a state directory (one JSON file per version,
 * written atomically), holding the revisions and the latest document (what the next one is compared with).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { diffDocuments } from './diff.ts';
import type { RevisionJob, RevisionResult } from './revision-work.ts';
import type { ApiChange } from './rules.ts';

type Json = Record<string, unknown>;

/** One revision of one version's document. */
export interface Revision {
  /** `ModelAPI/<namespace>/<name>`. */
  readonly api: string;
  readonly version: string;
  /** 1 for the first document seen, then counting up. */
  readonly revision: number;
  /** sha256 (hex) of the canonical document. */
  readonly hash: string;
  /** RFC 3339 time it was recorded. */
  readonly at: string;
  /** Where the document came from (inline, configMap, upstream, metadata, generic). */
  readonly source: string;
  readonly generation?: number;
  /** Changes from the previous revision (none for the first). */
  readonly changes: readonly ApiChange[];
  /** Counts per level, for lists and feeds. */
  readonly breaking: number;
}

/** The stored history of one version. */
export interface VersionHistory {
  revisions: Revision[];
  /**
   * The latest document, for the next comparison; released while the version is not served (a removed API would
   * otherwise keep its whole document in memory), unless its API refuses breaking changes (kept to check them).
   */
  document?: Json;
  /** What the latest document was rendered from, when the caller keeps it (to hold a breaking change back). */
  origin?: unknown;
}

/** What is observed about one version at one time. */
export interface VersionObservation {
  readonly api: string;
  readonly version: string;
  /** The version's document (its own paths, as published). */
  readonly document: Json;
  readonly source: string;
  readonly generation?: number;
  /** Maps the version's paths to version-independent ones (for comparing across renamed prefixes). */
  readonly pathKey?: (path: string) => string;
  /** Kept with the latest revision (see VersionHistory.origin). */
  readonly origin?: unknown;
}

/** The revision store of one gateway. */
export class RevisionStore {
  readonly #persistence: RevisionPersistence | undefined;
  readonly #limit: number;
  readonly #histories = new Map<string, VersionHistory>();

  /** `persistence`: where history survives restarts (undefined: memory only); `limit`: revisions kept per version. */
  constructor(persistence: RevisionPersistence | undefined, limit = 50) {
    this.#persistence = persistence;
    this.#limit = limit;
    const loaded = persistence?.load();
    this.ready =
      loaded instanceof Promise ? loaded.then((h) => this.restore(h)) : Promise.resolve(loaded && this.restore(loaded));
  }

  /** Resolves once the stored history is loaded (at once for files; after a read of the API server in Kubernetes). */
  readonly ready: Promise<void>;

  /** Adds histories read from persistence (a version already known keeps the longer history). */
  restore(histories: readonly VersionHistory[]): void {
    for (const h of histories) {
      const last = h.revisions.at(-1);
      if (!last) continue;
      const key = `${last.api}\0${last.version}`;
      const known = this.#histories.get(key);
      if (!known || (known.revisions.at(-1)?.revision ?? 0) < last.revision) this.#histories.set(key, h);
    }
  }

  /**
   * Records a revision when the document differs from the latest one (by content); returns it, or undefined when
   * nothing changed.
   */
  observe(o: VersionObservation, now = new Date()): Revision | undefined {
    const key = `${o.api}\0${o.version}`;
    const hash = documentHash(o.document);
    const history = this.#histories.get(key);
    const latest = history?.revisions.at(-1);
    if (latest?.hash === hash) return this.#record(o, now, hash, [], true);
    const changes =
      history?.document && latest
        ? diffDocuments(history.document, o.document, {
            now,
            normalized: true,
            ...(o.pathKey ? { oldPath: o.pathKey, newPath: o.pathKey } : {}),
          })
        : [];
    const equal =
      history?.document !== undefined &&
      latest !== undefined &&
      changes.length === 0 &&
      isDeepStrictEqual(history.document, o.document);
    return this.#record(o, now, hash, changes, equal);
  }

  /**
   * As `observe`, with the hash and the diff computed by `run` (the document worker, changes/revision-work.ts) off
   * the event loop; done here when the worker cannot (then as `observe`). Observations of one store must not overlap
   * (the caller awaits each). A document observed again as the same object costs nothing.
   */
  async observeOffThread(
    o: VersionObservation,
    run: (job: RevisionJob) => Promise<{ ok: true; body: unknown } | { ok: false; error: string }>,
    now = new Date(),
  ): Promise<Revision | undefined> {
    const key = `${o.api}\0${o.version}`;
    const history = this.#histories.get(key);
    if (history?.document === o.document) return undefined;
    const latest = history?.revisions.at(-1);
    if (o.pathKey) return this.observe(o, now); // a function cannot be posted
    const job = {
      op: 'revision' as const,
      key,
      next: o.document,
      ...(latest ? { previousHash: latest.hash } : {}),
      now: now.toISOString(),
    };
    let outcome = await run(job);
    if (outcome.ok && (outcome.body as RevisionResult).needPrevious)
      // Sent even when this store holds none (released): the worker then records by hash alone.
      outcome = await run({ ...job, previous: history?.document });
    if (!outcome.ok) return this.observe(o, now);
    const result = outcome.body as RevisionResult;
    if (result.needPrevious) return this.observe(o, now);
    // The worker had nothing to compare with when this store holds no previous document (released): by hash alone.
    const comparable = history?.document !== undefined;
    return this.#record(o, now, result.hash, comparable ? result.changes : [], comparable && result.equal);
  }

  /** Records what was found about an observation (`equal`: the same content as the latest revision). */
  #record(
    o: VersionObservation,
    now: Date,
    hash: string,
    changes: readonly ApiChange[],
    equal: boolean,
  ): Revision | undefined {
    const key = `${o.api}\0${o.version}`;
    const history = this.#histories.get(key);
    const latest = history?.revisions.at(-1);
    if (history && latest && (equal || latest.hash === hash)) {
      // The same content (perhaps serialised otherwise: keys in another order, or a hash recorded by an older
      // modelgate): not a revision. The latest takes this hash and the newest object, so the next observation
      // compares by hash again and the previous snapshot's copy can be collected.
      if (latest.hash !== hash) history.revisions[history.revisions.length - 1] = { ...latest, hash };
      history.document = o.document;
      return undefined;
    }
    const revision: Revision = {
      api: o.api,
      version: o.version,
      revision: (latest?.revision ?? 0) + 1,
      hash,
      at: now.toISOString(),
      source: o.source,
      ...(o.generation !== undefined ? { generation: o.generation } : {}),
      changes,
      breaking: changes.filter((c) => c.level === 'breaking').length,
    };
    const next: VersionHistory = {
      revisions: [...(history?.revisions ?? []), revision].slice(-this.#limit),
      document: o.document,
      ...(o.origin !== undefined ? { origin: o.origin } : {}),
    };
    this.#histories.set(key, next);
    this.#persistence?.save(o.api, o.version, next);
    return revision;
  }

  /** Writes every history again (a new leader in Kubernetes: writes before it led were not made). */
  persistAll(): void {
    for (const h of this.#histories.values()) {
      const last = h.revisions.at(-1);
      if (last) this.#persistence?.save(last.api, last.version, h);
    }
  }

  /** Every revision (of one API, when given), newest first. */
  history(api?: string): Revision[] {
    const out: Revision[] = [];
    for (const h of this.#histories.values())
      for (const r of h.revisions) if (api === undefined || r.api === api) out.push(r);
    return out.sort(
      (a, b) => b.at.localeCompare(a.at) || b.revision - a.revision || a.version.localeCompare(b.version),
    );
  }

  /** The latest revision of a version with its document and origin (while the document is kept). */
  latestEntry(api: string, version: string): { revision: Revision; document: Json; origin?: unknown } | undefined {
    const h = this.#histories.get(`${api}\0${version}`);
    const revision = h?.revisions.at(-1);
    return h?.document && revision
      ? { revision, document: h.document, ...(h.origin !== undefined ? { origin: h.origin } : {}) }
      : undefined;
  }

  /**
   * Releases the documents of versions that are not served any more (`served` says which are); their revisions stay
   * (the changelog), and a version that comes back is compared by hash alone for its first new document.
   */
  releaseDocuments(served: (api: string, version: string) => boolean): void {
    for (const h of this.#histories.values()) {
      const last = h.revisions.at(-1);
      if (!h.document || !last || h.origin !== undefined || served(last.api, last.version)) continue;
      delete h.document;
    }
  }

  /** The latest revision of a version. */
  latest(api: string, version: string): Revision | undefined {
    return this.#histories.get(`${api}\0${version}`)?.revisions.at(-1);
  }
}

/** Where revision histories are kept between restarts. */
export interface RevisionPersistence {
  /** Every stored history (synchronously when it can; the Kubernetes store loads asynchronously, then restores). */
  load(): readonly VersionHistory[] | Promise<readonly VersionHistory[]>;
  save(api: string, version: string, history: VersionHistory): void;
}

/** File mode: one JSON file per version under `<dir>/revisions/<namespace>/<name>/`, written atomically. */
export class DirectoryPersistence implements RevisionPersistence {
  readonly #dir: string;
  readonly #write: boolean;

  /** `write`: whether this process writes (of several workers only one does; the others read at start). */
  constructor(dir: string, write = true) {
    this.#dir = dir;
    this.#write = write;
  }

  load(): VersionHistory[] {
    const root = join(this.#dir, 'revisions');
    const out: VersionHistory[] = [];
    let namespaces: string[];
    try {
      namespaces = readdirSync(root);
    } catch {
      return out; // nothing recorded yet
    }
    for (const ns of namespaces)
      for (const name of readdirSync(join(root, ns)))
        for (const file of readdirSync(join(root, ns, name)).filter((f) => f.endsWith('.json'))) {
          try {
            out.push(JSON.parse(readFileSync(join(root, ns, name, file), 'utf8')) as VersionHistory);
          } catch {
            // A damaged file loses its history only; the next document starts a new one.
          }
        }
    return out;
  }

  save(api: string, version: string, history: VersionHistory): void {
    if (!this.#write) return;
    const [, namespace, name] = api.split('/');
    const file = join(this.#dir, 'revisions', safe(namespace ?? ''), safe(name ?? ''), `${safe(version)}.json`);
    mkdirSync(join(file, '..'), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(history));
    renameSync(temp, file); // atomic: a crash leaves the old file or the new one, never half of one
  }
}

/**
 * The content hash of a document: sha256 of its JSON. Published documents are built deterministically (equal inputs,
 * equal key order), so this tells revisions apart at a tenth of the cost of canonical (key-sorted) JSON — half a
 * second for a 10 MB document, on the event loop. Where two hashes differ but the diff finds nothing, the revision
 * store compares the documents (deep equality, key order aside; it stops at the first difference) before it records
 * anything.
 */
export function documentHash(document: Json): string {
  // Published documents are immutable: an unchanged API observed again (every reload) is hashed once.
  let hash = hashes.get(document);
  if (hash === undefined) {
    hash = createHash('sha256').update(JSON.stringify(document)).digest('hex');
    hashes.set(document, hash);
  }
  return hash;
}
const hashes = new WeakMap<Json, string>();

function safe(segment: string): string {
  return segment.replace(/[^A-Za-z0-9._-]/g, '_');
}
