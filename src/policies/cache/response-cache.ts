/**
 * The response cache for deterministic models. Keys are model API, version, method, path and a canonical hash of
 * the body (JSON key order and whitespace do not matter) plus the headers a policy names. Entries live in Redis
 * (shared by replicas) or in a byte-bounded LRU per replica. Identical requests in flight at once are coalesced: the
 * first goes to the model, the others wait for its answer. Only complete 200 answers that are not streamed and not
 * marked private/no-store are stored; a store that fails is a cache miss, never an error.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { ResponseTap } from '../../dataplane/forward.ts';
import { sortDeep } from '../../openapi/openapi-walk.ts';
import type { CachePolicy } from '../../snapshot/types.ts';

/** One stored answer. */
export interface CachedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
  /** Epoch ms when it was stored (for `Age`). */
  readonly storedAt: number;
}

/** Response headers that belong to one exchange, not to the stored answer. */
const NOT_STORED = new Set(['x-request-id', 'date', 'content-length', 'set-cookie', 'connection', 'keep-alive']);
const MEMORY_BYTES = 64 * 1024 * 1024;

/** Everything the cache key is made of. */
export interface CacheKeyInput {
  readonly version: string;
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly contentType: string | undefined;
  readonly body: Buffer;
  readonly header: (name: string) => string | undefined;
}

/** The key of a request under `policy`: a sha256 over its parts, the body canonicalised when it is JSON. */
export function cacheKey(policy: CachePolicy, input: CacheKeyInput): string {
  const hash = createHash('sha256');
  hash.update(`${policy.id}\0${input.version}\0${input.method}\0${input.path}\0${input.query}\0`);
  for (const name of policy.varyHeaders) hash.update(`${name}=${input.header(name) ?? ''}\0`);
  const type = input.contentType?.split(';')[0]?.trim().toLowerCase();
  let canonical: string | undefined;
  if (type === 'application/json' || type?.endsWith('+json')) {
    try {
      canonical = JSON.stringify(sortDeep(JSON.parse(input.body.toString('utf8'))));
    } catch {
      canonical = undefined; // not JSON after all: the bytes are the key
    }
  }
  if (canonical === undefined) hash.update(input.body);
  else hash.update(canonical);
  return hash.digest('base64url');
}

/** Whether a request allows the cache to answer it / to store its answer. */
export function requestCacheMode(cacheControl: string | undefined): 'use' | 'refresh' | 'bypass' {
  if (!cacheControl) return 'use';
  const directives = cacheControl.toLowerCase();
  if (directives.includes('no-store')) return 'bypass';
  if (directives.includes('no-cache') || directives.includes('max-age=0')) return 'refresh';
  return 'use';
}

/** Filled when the leader of a key has its answer (undefined: not cacheable; followers go to the model). */
interface Pending {
  readonly promise: Promise<CachedResponse | undefined>;
  resolve(entry: CachedResponse | undefined): void;
}

/** The cache of one gateway process. */
export class ResponseCache {
  readonly #memory = new LRUCache<string, CachedResponse>({
    maxSize: MEMORY_BYTES,
    sizeCalculation: (e) => e.body.length + 256,
  });
  readonly #pending = new Map<string, Pending>();
  #redis: Redis | undefined;
  readonly #onStoreError: () => void;

  constructor(onStoreError: () => void = () => {}) {
    this.#onStoreError = onStoreError;
  }

  /** Uses this Redis connection for policies whose store is redis (undefined: memory only). */
  useRedis(redis: Redis | undefined): void {
    this.#redis = redis;
  }

  /** The stored answer for `key`, if any and still fresh. */
  async get(policy: CachePolicy, key: string): Promise<CachedResponse | undefined> {
    if (policy.store === 'memory' || !this.#redis) return this.#memory.get(key);
    try {
      const raw = await this.#redis.getBuffer(redisKey(key));
      return raw ? decode(raw) : undefined;
    } catch {
      this.#onStoreError();
      return undefined;
    }
  }

  /** The answer an identical request in flight will produce, when there is one. */
  pending(key: string): Promise<CachedResponse | undefined> | undefined {
    return this.#pending.get(key)?.promise;
  }

  /**
   * Makes this request the one that asks the model for `key`: its answer is collected by the returned tap factory
   * and stored when cacheable; requests that arrive meanwhile wait for it.
   */
  lead(
    policy: CachePolicy,
    key: string,
  ): (status: number, headers: Readonly<Record<string, string | string[]>>) => ResponseTap | undefined {
    let resolve!: (entry: CachedResponse | undefined) => void;
    const promise = new Promise<CachedResponse | undefined>((r) => {
      resolve = r;
    });
    const pending: Pending = { promise, resolve };
    this.#pending.set(key, pending);
    const settle = (entry: CachedResponse | undefined) => {
      if (this.#pending.get(key) === pending) this.#pending.delete(key);
      if (entry) this.#store(policy, key, entry);
      pending.resolve(entry);
    };
    return (status, headers) => {
      if (!cacheable(status, headers)) {
        settle(undefined);
        return undefined;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      return {
        rewrites: false,
        data(chunk) {
          if (!done) {
            size += chunk.length;
            if (size > policy.maxEntryBytes) {
              done = true;
              chunks.length = 0;
              settle(undefined);
            } else chunks.push(chunk);
          }
          return chunk;
        },
        end() {
          if (!done) {
            done = true;
            const stored: Record<string, string | string[]> = {};
            for (const [name, value] of Object.entries(headers)) if (!NOT_STORED.has(name)) stored[name] = value;
            settle({ status, headers: stored, body: Buffer.concat(chunks, size), storedAt: Date.now() });
          }
          return undefined;
        },
        abort() {
          if (!done) {
            done = true;
            settle(undefined);
          }
        },
      };
    };
  }

  /** Gives up leading `key` (the request never reached the model). */
  abandon(key: string): void {
    const pending = this.#pending.get(key);
    if (!pending) return;
    this.#pending.delete(key);
    pending.resolve(undefined);
  }

  #store(policy: CachePolicy, key: string, entry: CachedResponse): void {
    if (policy.store === 'memory' || !this.#redis) {
      this.#memory.set(key, entry, { ttl: policy.ttlMs });
      return;
    }
    this.#redis.set(redisKey(key), encode(entry), 'PX', policy.ttlMs).catch(() => this.#onStoreError());
  }
}

function cacheable(status: number, headers: Readonly<Record<string, string | string[]>>): boolean {
  if (status !== 200 || headers['set-cookie'] !== undefined) return false;
  const type = String(headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('text/event-stream')) return false;
  const control = String(headers['cache-control'] ?? '').toLowerCase();
  return !control.includes('no-store') && !control.includes('private');
}

function redisKey(key: string): string {
  return `modelgate:cache:${key}`;
}

/** Redis value: the JSON head, a newline (JSON escapes its own), the body bytes. */
function encode(entry: CachedResponse): Buffer {
  const head = JSON.stringify({ status: entry.status, headers: entry.headers, storedAt: entry.storedAt });
  return Buffer.concat([Buffer.from(`${head}\n`), entry.body]);
}

function decode(raw: Buffer): CachedResponse | undefined {
  const nl = raw.indexOf(10);
  if (nl < 0) return undefined;
  try {
    const head = JSON.parse(raw.subarray(0, nl).toString('utf8')) as Omit<CachedResponse, 'body'>;
    return { ...head, body: raw.subarray(nl + 1) };
  } catch {
    return undefined;
  }
}
