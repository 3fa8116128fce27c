/**
 * Rate limits shared by every gateway replica, kept in Redis. One Lua script per request takes a token atomically
 * (no race between replicas) using Redis's own clock (replicas' clocks never matter). When Redis cannot answer in
 * time, the configured failure mode decides: fail open (let the request through, the default) or closed (429);
 * either way the error is counted and logged at most once per interval, and the gateway keeps serving.
 */
import { Redis } from 'ioredis';
import { ResilientConnector } from '../../dataplane/redis-connector.ts';
import type { Logger } from '../../observability/logger.ts';
import type { RateLimitPolicy, RedisSettings } from '../../snapshot/types.ts';
import type { RateLimitDecision } from './limiter.ts';

const TAKE_TOKEN = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil then tokens = capacity; ts = now end
tokens = math.min(capacity, tokens + (now - ts) * rate)
local cost = tonumber(ARGV[4])
local need = tonumber(ARGV[5])
local allowed = 0
if tokens >= need then tokens = tokens - cost; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
-- kept until it has refilled (a token budget's bucket may be deep in debt)
redis.call('PEXPIRE', KEYS[1], math.max(ttl, math.ceil((capacity - tokens) / rate)))
return {allowed, tostring(tokens)}
`;

/** Settings of the shared limiter: the ModelGateway's Redis settings, and where to report. */
export interface GlobalRateLimiterOptions extends RedisSettings {
  readonly logger?: Logger;
  readonly onError?: () => void;
}

/** A Redis-backed token bucket store. */
export class GlobalRateLimiter {
  readonly options: GlobalRateLimiterOptions;
  readonly #redis: Redis;
  #lastLogged = 0;

  /** The connection, shared with the response cache (one connection to the store per process). */
  get redis(): Redis {
    return this.#redis;
  }

  constructor(options: GlobalRateLimiterOptions) {
    this.options = options;
    this.#redis = new Redis(options.url, {
      // Never queue commands while disconnected: a rate-limit check must answer now or fail now.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(options.timeoutMs, 1000),
      retryStrategy: (times) => Math.min(times * 200, 2000),
      lazyConnect: false,
      // Sockets whose late errors cannot end the process (redis-connector.ts).
      Connector: ResilientConnector as never,
      // Credentials from their Secret, never in the URL; TLS for rediss:// with the CA from its Secret.
      ...(options.auth
        ? { password: options.auth.password, ...(options.auth.username ? { username: options.auth.username } : {}) }
        : {}),
      ...(options.tls
        ? {
            tls: {
              ...(options.tls.caPem ? { ca: options.tls.caPem } : {}),
              ...(options.tls.serverName ? { servername: options.tls.serverName } : {}),
            },
          }
        : {}),
    });
    this.#redis.on('error', () => {}); // reported per request below, not as unhandled events
    this.#redis.defineCommand('modelgateTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
  }

  /** Takes one token for `key` under `policy`, across all replicas. */
  take(policy: RateLimitPolicy, key: string): Promise<RateLimitDecision> {
    return this.spend(policy, key, 1, 1);
  }

  /** As RateLimiter.spend, atomically in Redis. */
  async spend(policy: RateLimitPolicy, key: string, cost: number, need: number): Promise<RateLimitDecision> {
    const ratePerMs = policy.requests / policy.windowMs;
    try {
      const run = (this.#redis as unknown as Record<string, (...a: unknown[]) => Promise<[number, string]>>)
        .modelgateTakeToken!;
      const [allowed, tokensText] = await run.call(
        this.#redis,
        `modelgate:rl:${policy.id}:${key}`,
        policy.burst,
        ratePerMs,
        Math.ceil(policy.windowMs * 2),
        cost,
        Number.isFinite(need) ? need : -1e300,
      );
      const tokens = Number(tokensText);
      return allowed === 1
        ? { allowed: true, remaining: Math.max(0, Math.floor(tokens)), retryAfterSeconds: 0 }
        : {
            allowed: false,
            remaining: 0,
            retryAfterSeconds: Math.max(1, Math.ceil((need - tokens) / ratePerMs / 1000)),
          };
    } catch (err) {
      this.options.onError?.();
      const now = Date.now();
      if (now - this.#lastLogged > 10_000) {
        this.#lastLogged = now;
        this.options.logger?.warn(
          { err: (err as Error).message, failOpen: this.options.failOpen },
          'rate-limit store unreachable; applying the failure mode',
        );
      }
      return this.options.failOpen
        ? { allowed: true, remaining: policy.burst, retryAfterSeconds: 0 }
        : { allowed: false, remaining: 0, retryAfterSeconds: 1 };
    }
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}
