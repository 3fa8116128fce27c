/**
 * Revisions of published API documents. Whenever the document of a ModelAPI version changes, a revision is recorded:
 * its content hash, time, source, the resource generation and the changes from the previous revision (diff engine).
 * History is bounded per version; in file mode it survives restarts in a state directory (one JSON file per version,
 * written atomically), holding the revisions and the latest document (what the next one is compared with).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../docs/openapi-walk.ts';
import { diffDocuments } from './diff.ts';
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

interface VersionHistory {
  revisions: Revision[];
  /** The latest document, for the next comparison. */
  document: Json;
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
  readonly #dir: string | undefined;
  readonly #limit: number;
  readonly #persist: boolean;
  readonly #histories = new Map<string, VersionHistory>();

  /**
   * `dir`: where history survives restarts (undefined: memory only); `limit`: revisions kept per version; `persist`:
   * whether this process writes (of several workers only one does; the others read the directory at start).
   */
  constructor(dir: string | undefined, limit = 50, persist = true) {
    this.#dir = dir;
    this.#limit = limit;
    this.#persist = persist;
    if (dir) this.#load(dir);
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
    if (latest?.hash === hash) {
      // Same content: keep the newest object, so the previous snapshot's copy can be collected.
      if (history) history.document = o.document;
      return undefined;
    }
    const changes =
      history && latest
        ? diffDocuments(history.document, o.document, {
            now,
            ...(o.pathKey ? { oldPath: o.pathKey, newPath: o.pathKey } : {}),
          })
        : [];
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
    this.#save(o.api, o.version, next);
    return revision;
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

  /** The latest revision of a version with its document and origin. */
  latestEntry(api: string, version: string): { revision: Revision; document: Json; origin?: unknown } | undefined {
    const h = this.#histories.get(`${api}\0${version}`);
    const revision = h?.revisions.at(-1);
    return h && revision
      ? { revision, document: h.document, ...(h.origin !== undefined ? { origin: h.origin } : {}) }
      : undefined;
  }

  /** The latest revision of a version. */
  latest(api: string, version: string): Revision | undefined {
    return this.#histories.get(`${api}\0${version}`)?.revisions.at(-1);
  }

  #file(api: string, version: string): string | undefined {
    if (!this.#dir) return undefined;
    const [, namespace, name] = api.split('/');
    return join(this.#dir, 'revisions', safe(namespace ?? ''), safe(name ?? ''), `${safe(version)}.json`);
  }

  #save(api: string, version: string, history: VersionHistory): void {
    const file = this.#persist ? this.#file(api, version) : undefined;
    if (!file) return;
    mkdirSync(join(file, '..'), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(history));
    renameSync(temp, file); // atomic: a crash leaves the old file or the new one, never half of one
  }

  #load(dir: string): void {
    const root = join(dir, 'revisions');
    let namespaces: string[];
    try {
      namespaces = readdirSync(root);
    } catch {
      return; // nothing recorded yet
    }
    for (const ns of namespaces)
      for (const name of readdirSync(join(root, ns)))
        for (const file of readdirSync(join(root, ns, name)).filter((f) => f.endsWith('.json'))) {
          try {
            const history = JSON.parse(readFileSync(join(root, ns, name, file), 'utf8')) as VersionHistory;
            const last = history.revisions.at(-1);
            if (last) this.#histories.set(`${last.api}\0${last.version}`, history);
          } catch {
            // A damaged file loses its history only; the next document starts a new one.
          }
        }
  }
}

/** The content hash of a document: canonical JSON, so key order does not matter. */
export function documentHash(document: Json): string {
  return createHash('sha256').update(canonicalJson(document)).digest('hex');
}

function safe(segment: string): string {
  return segment.replace(/[^A-Za-z0-9._-]/g, '_');
}
