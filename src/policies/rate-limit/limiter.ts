/**
 * Token buckets for rate limits, per replica. Buckets are keyed by the policy's id (the ModelAPI and its settings)
 * and the client key, so they survive reloads that do not change the policy, and a changed policy starts fresh.
 * Idle buckets are swept; the table is bounded.
 */
import type { RateLimitPolicy } from '../../snapshot/types.ts';

/** The decision for one request, with what the RateLimit headers report. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Whole requests left in the bucket after this one. */
  readonly remaining: number;
  /** Seconds until one more request is possible (0 when there is budget left). */
  readonly retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

const MAX_BUCKETS = 100_000;

/** All buckets of one gateway process. */
export class RateLimiter {
  /** Buckets by policy id, then client key: two lookups on strings the request already holds (no joined key). */
  readonly #buckets = new Map<string, Map<string, Bucket>>();
  #count = 0;

  /** Takes one token for `key` under `policy` at time `now` (ms). */
  take(policy: RateLimitPolicy, key: string, now = Date.now()): RateLimitDecision {
    return this.spend(policy, key, 1, 1, now);
  }

  /**
   * The general form: allowed when the bucket holds at least `need` tokens, and then `cost` are taken. Token budgets
   * use it twice — before the call (need 1, cost 0: is anything left?) and after it (need -Infinity, cost = the
   * tokens the model reported), so a bucket may go negative and the caller waits until it refills.
   */
  spend(policy: RateLimitPolicy, key: string, cost: number, need: number, now = Date.now()): RateLimitDecision {
    const ratePerMs = policy.requests / policy.windowMs;
    let buckets = this.#buckets.get(policy.id);
    if (buckets === undefined) {
      buckets = new Map();
      this.#buckets.set(policy.id, buckets);
    }
    let bucket = buckets.get(key);
    if (!bucket) {
      if (this.#count >= MAX_BUCKETS) this.#sweep(now, policy.windowMs);
      bucket = { tokens: policy.burst, updated: now };
      buckets.set(key, bucket);
      this.#count++;
    } else {
      bucket.tokens = Math.min(policy.burst, bucket.tokens + (now - bucket.updated) * ratePerMs);
      bucket.updated = now;
    }
    if (bucket.tokens >= need) {
      bucket.tokens -= cost;
      return { allowed: true, remaining: Math.max(0, Math.floor(bucket.tokens)), retryAfterSeconds: 0 };
    }
    return {
      allowed: false,
      remaining: 0,
      retryAfterSeconds: Math.max(1, Math.ceil((need - bucket.tokens) / ratePerMs / 1000)),
    };
  }

  /** Drops buckets that have refilled completely (they carry no state). */
  #sweep(now: number, windowMs: number): void {
    // A bucket idle for a window has refilled (a negative one, left by a token budget, needs longer: kept).
    for (const buckets of this.#buckets.values())
      for (const [key, b] of buckets)
        if (b.tokens >= 0 && now - b.updated > windowMs) {
          buckets.delete(key);
          this.#count--;
        }
    if (this.#count >= MAX_BUCKETS) {
      // Still full: every bucket is in use; starting over is fairer than refusing new clients.
      for (const buckets of this.#buckets.values()) buckets.clear();
      this.#count = 0;
    }
  }
}

const policyHeaders = new WeakMap<RateLimitPolicy, string>();

/** The `RateLimit-Policy` value of the default policy, built once per policy (it is the same on every answer). */
export function rateLimitPolicyHeader(policy: RateLimitPolicy): string {
  let value = policyHeaders.get(policy);
  if (value === undefined) {
    value = `"default";q=${policy.requests};w=${Math.round(policy.windowMs / 1000)}`;
    policyHeaders.set(policy, value);
  }
  return value;
}

/** The `RateLimit-Policy` and `RateLimit` header values (draft-ietf-httpapi-ratelimit-headers). */
export function rateLimitHeaders(
  policy: RateLimitPolicy,
  decision: RateLimitDecision,
  name = 'default',
): Record<string, string> {
  const windowS = Math.round(policy.windowMs / 1000);
  return {
    'ratelimit-policy': `"${name}";q=${policy.requests};w=${windowS}`,
    ratelimit: `"${name}";r=${decision.remaining};t=${decision.retryAfterSeconds}`,
  };
}

/** The bucket a request spends from under a rate or token limit. */
export function limitKey(
  rl: RateLimitPolicy,
  identity: { readonly subject: string } | undefined,
  client: { readonly remoteAddress?: string | undefined },
): string {
  if (rl.key === 'route') return '';
  if (rl.key === 'subject' && identity) return `subject:${identity.subject}`;
  // Read only when needed: the getter asks the socket each time.
  return `ip:${client.remoteAddress ?? ''}`;
}
