/**
 * The spec fetcher: the only I/O of the docs plane, and a source like the file watcher — it says "what I discovered
 * changed" and the runtime recompiles. It carries out the compiler's `DocsTask`s:
 *
 * - fetches upstream documents and metadata only from the task's own cluster endpoints or the URL written in the
 *   resource (never from request data), with a timeout, a size cap and `If-None-Match`;
 * - refreshes on the task's interval, immediately when the cluster's ready endpoints change, and sooner (backoff)
 *   after a failure; a failure keeps the last good result and records the error next to it;
 * - parses, checks, converts (Swagger 2.0) and normalises what it fetched in the document worker, off the event
 *   loop: a 10 MB document costs the serving thread only its hand-over, and one that is not a document (an HTML
 *   error page, `null`, `[]`), nests too deeply or takes too long is a failed fetch — the last good copy stays.
 *
 * Tasks that disappear from the snapshot are cancelled; nothing is probed that no resource asked for.
 */
import { Agent, request } from 'undici';
import type { Logger } from '../../observability/logger.ts';
import {
  type ConvertTask,
  type Discovered,
  type DiscoveredDocument,
  type DiscoveryResult,
  type DocsTask,
  type FetchTask,
  sha256,
} from '../../snapshot/discovery.ts';
import type { Cluster } from '../../snapshot/types.ts';
import { type DocumentJob, type DocumentOutcome, processDocument } from './fetched-document.ts';

/** Where fetched documents are parsed, checked and normalised: the runtime's document worker, or this thread. */
export interface DocumentRunner {
  run(job: DocumentJob): Promise<DocumentOutcome>;
}

/** In this thread (the CLI's offline build, tests): what the worker would do, without its time and memory bounds. */
const IN_PROCESS: DocumentRunner = {
  async run(job) {
    try {
      return await processDocument(job);
    } catch (err) {
      return { ok: false, error: err instanceof RangeError ? 'the document nests too deeply' : (err as Error).message };
    }
  },
};

/** Settings of the fetcher. */
export interface SpecFetcherOptions {
  /** Called (coalesced) after `discovered()` changed. */
  readonly onChange: () => void;
  readonly timeoutMs?: number;
  /** Largest document accepted (default 10 MiB). */
  readonly maxBytes?: number;
  /** Shortest retry delay after a failure (default 1 s; doubled per failure up to the refresh interval). */
  readonly retryMs?: number;
  readonly logger?: Logger;
  /** Where documents are processed (default: in this thread; the gateway passes its document worker). */
  readonly processor?: DocumentRunner;
}

interface TaskState {
  task: DocsTask;
  fingerprint: string;
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
  failures: number;
  cancelled: boolean;
}

const ACCEPT = 'application/json, application/yaml;q=0.9, application/vnd.oai.openapi+json;q=0.9, */*;q=0.5';

/** Fetches and converts API descriptions for the docs plane. */
export class SpecFetcher {
  readonly #options: SpecFetcherOptions;
  readonly #states = new Map<string, TaskState>();
  readonly #results = new Map<string, DiscoveryResult>();
  readonly #agent: Agent;
  readonly #processor: DocumentRunner;
  #snapshot: Discovered = new Map();
  #clusters: Readonly<Record<string, Cluster>> = {};
  #notify: NodeJS.Immediate | undefined;
  #closed = false;

  constructor(options: SpecFetcherOptions) {
    this.#options = options;
    const timeout = options.timeoutMs ?? 5000;
    // A pool of its own: discovery never competes with (or poisons) the data plane's connections.
    this.#agent = new Agent({ connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout, connections: 4 });
    this.#processor = options.processor ?? IN_PROCESS;
  }

  /** What was found so far; a new immutable map after every change. */
  discovered(): Discovered {
    return this.#snapshot;
  }

  /** Reconciles the running tasks with the snapshot's; new tasks and tasks whose endpoints changed run now. */
  update(tasks: readonly DocsTask[], clusters: Readonly<Record<string, Cluster>>): void {
    if (this.#closed) return;
    this.#clusters = clusters;
    const wanted = new Map(tasks.map((t) => [t.key, t]));
    for (const [key, state] of this.#states) {
      if (wanted.has(key)) continue;
      this.#cancel(state);
      this.#states.delete(key);
      if (this.#results.delete(key)) this.#changed();
    }
    for (const task of wanted.values()) {
      const fingerprint = this.#fingerprint(task);
      const state = this.#states.get(task.key);
      if (!state) {
        const fresh: TaskState = {
          task,
          fingerprint,
          timer: undefined,
          running: undefined,
          failures: 0,
          cancelled: false,
        };
        this.#states.set(task.key, fresh);
        this.#run(fresh);
      } else if (state.fingerprint !== fingerprint) {
        state.task = task;
        state.fingerprint = fingerprint;
        state.failures = 0;
        this.#run(state);
      } else state.task = task;
    }
  }

  /** Resolves when every current task has finished at least one attempt (for the CLI and tests). */
  async settle(): Promise<void> {
    for (;;) {
      const running = [...this.#states.values()].map((s) => s.running).filter((p) => p !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Stops every timer and closes the connection pool. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const state of this.#states.values()) this.#cancel(state);
    this.#states.clear();
    if (this.#notify) clearImmediate(this.#notify);
    await this.#agent.close();
  }

  #cancel(state: TaskState): void {
    state.cancelled = true;
    if (state.timer) clearTimeout(state.timer);
    state.timer = undefined;
  }

  /** Ready endpoint origins of the task's cluster: a change means "ask again now". */
  #fingerprint(task: DocsTask): string {
    if (task.kind === 'convert' || !task.cluster) return '';
    const cluster = this.#clusters[task.cluster];
    return cluster
      ? cluster.endpoints
          .filter((e) => e.ready)
          .map((e) => e.origin)
          .sort()
          .join(',')
      : '';
  }

  #run(state: TaskState): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = undefined;
    if (state.running) {
      // One attempt at a time; the newest fingerprint is picked up by the follow-up scheduled after it.
      void state.running.then(() => !state.cancelled && this.#run(state));
      return;
    }
    const attempt = state.task.kind === 'convert' ? this.#convert(state.task) : this.#fetch(state.task);
    state.running = attempt
      .then((outcome) => {
        if (state.cancelled) return;
        this.#record(state.task.key, outcome);
        if (state.task.kind === 'convert') return; // a conversion's input never changes under the same key
        state.failures = 'error' in outcome ? state.failures + 1 : 0;
        const refresh = state.task.refreshMs;
        const delay =
          state.failures > 0 ? Math.min(refresh, (this.#options.retryMs ?? 1000) * 2 ** (state.failures - 1)) : refresh;
        state.timer = setTimeout(() => this.#run(state), delay);
        state.timer.unref();
      })
      .finally(() => {
        state.running = undefined;
      });
  }

  #record(key: string, outcome: { document: DiscoveredDocument; notModified?: boolean } | { error: string }): void {
    const previous = this.#results.get(key);
    let next: DiscoveryResult;
    if ('error' in outcome) {
      next = { ...(previous?.last ? { last: previous.last } : {}), error: outcome.error };
      this.#options.logger?.warn({ task: key, error: outcome.error }, 'API description fetch failed');
    } else {
      next = { last: outcome.document };
    }
    const same =
      previous !== undefined &&
      previous.error === next.error &&
      previous.last?.sha256 === next.last?.sha256 &&
      previous.last?.etag === next.last?.etag;
    this.#results.set(key, next);
    // A 304 or an identical body refreshes fetchedAt silently: no recompile for nothing.
    if (!same) this.#changed();
  }

  #changed(): void {
    this.#snapshot = new Map(this.#results);
    if (this.#notify || this.#closed) return;
    this.#notify = setImmediate(() => {
      this.#notify = undefined;
      this.#options.onChange();
    });
  }

  async #convert(task: ConvertTask): Promise<{ document: DiscoveredDocument } | { error: string }> {
    const outcome = await this.#processor.run({ op: 'convert', document: task.document });
    if (!outcome.ok) return { error: outcome.error };
    return {
      document: {
        body: outcome.body,
        originalVersion: '2.0',
        sha256: sha256(JSON.stringify(task.document)),
        fetchedAt: new Date().toISOString(),
        location: 'converted from Swagger 2.0',
      },
    };
  }

  /** Asks the endpoints in turn (ready ones first) until one answers. */
  async #fetch(task: FetchTask): Promise<{ document: DiscoveredDocument; notModified?: boolean } | { error: string }> {
    type Target = { url: string; host?: string; headers?: readonly (readonly [string, string])[] };
    const targets: Target[] = [];
    if (task.url) targets.push({ url: task.url });
    else {
      const cluster = task.cluster ? this.#clusters[task.cluster] : undefined;
      if (!cluster) return { error: `cluster ${task.cluster} is not served` };
      const ready = cluster.endpoints.filter((e) => e.ready);
      if (ready.length === 0) return { error: 'no ready endpoints' };
      for (const e of ready.slice(0, 3))
        targets.push({
          url: `${e.origin}${cluster.basePath}${task.path}`,
          ...(cluster.hostHeader ? { host: cluster.hostHeader } : {}),
          // The version's own headers: the server may route by them (Seldon's mesh) or want its token (TorchServe).
          ...(cluster.requestHeaders ? { headers: cluster.requestHeaders } : {}),
        });
    }
    let lastError = 'no endpoint answered';
    for (const target of targets) {
      const outcome = await this.#fetchOne(task, target.url, target.host, target.headers);
      if (!('error' in outcome)) return outcome;
      lastError = outcome.error;
    }
    return { error: lastError };
  }

  async #fetchOne(
    task: FetchTask,
    url: string,
    host: string | undefined,
    own: readonly (readonly [string, string])[] = [],
  ): Promise<{ document: DiscoveredDocument; notModified?: boolean } | { error: string }> {
    const previous = this.#results.get(task.key)?.last;
    const location = task.url ?? `${new URL(url).origin}${task.path}`;
    const headers: Record<string, string> = Object.fromEntries(own);
    headers.accept = ACCEPT;
    headers['user-agent'] = 'modelgate-spec-fetcher';
    if (host) headers.host = host;
    if (previous?.etag && previous.location === location) headers['if-none-match'] = previous.etag;
    const timeoutMs = this.#options.timeoutMs ?? 5000;
    const maxBytes = this.#options.maxBytes ?? 10 * 1024 * 1024;
    try {
      const res = await request(url, {
        method: task.method,
        headers,
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(timeoutMs),
        maxRedirections: 0,
      } as Parameters<typeof request>[1]);
      if (res.statusCode === 304 && previous) {
        await res.body.dump();
        return { document: { ...previous, fetchedAt: new Date().toISOString() }, notModified: true };
      }
      if (res.statusCode < 200 || res.statusCode > 299) {
        await res.body.dump();
        return { error: `${task.method} ${location}: HTTP ${res.statusCode}` };
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > maxBytes) {
        res.body.destroy();
        return { error: `${location}: document larger than ${maxBytes} bytes` };
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          res.body.destroy();
          return { error: `${location}: document larger than ${maxBytes} bytes` };
        }
        chunks.push(chunk as Buffer);
      }
      // One buffer of its own (never a slice of a pooled one), hashed here, then moved to the document worker, which
      // parses, checks and normalises it: the serving thread only waits.
      const raw = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) {
        raw.set(c, at);
        at += c.length;
      }
      const digest = sha256(raw);
      const outcome = await this.#processor.run({
        op: 'fetched',
        kind: task.kind,
        bytes: raw,
        contentType: String(res.headers['content-type'] ?? ''),
      });
      if (!outcome.ok) return { error: `${location}: ${outcome.error}` };
      const etag = res.headers.etag;
      return {
        document: {
          body: outcome.body,
          ...(outcome.originalVersion ? { originalVersion: outcome.originalVersion } : {}),
          sha256: digest,
          ...(typeof etag === 'string' ? { etag } : {}),
          fetchedAt: new Date().toISOString(),
          location,
          ...(outcome.normalized ? { normalized: true } : {}),
          ...(outcome.normalizeErrors ? { normalizeErrors: outcome.normalizeErrors } : {}),
        },
      };
    } catch (err) {
      const e = err as Error & { code?: string };
      const reason =
        e.name === 'TimeoutError' || e.name === 'AbortError'
          ? `timed out after ${timeoutMs} ms`
          : (e.code ?? e.message);
      return { error: `${task.method} ${location}: ${reason}` };
    }
  }
}
