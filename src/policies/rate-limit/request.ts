/**
 * The rate-limit phase: one token per request from the caller's bucket (per replica, or in Redis across replicas).
 * An allowed request carries the RateLimit headers on its answer; a refused one gets 429 with Retry-After.
 */
import type { ServerResponse } from 'node:http';
import type { ErrorName } from '../../errors/catalog.ts';
import type { RateLimitPolicy } from '../../snapshot/types.ts';
import { NEXT, type PolicyContext, REJECTED, type RequestPhase, type Verdict } from '../phase.ts';
import { limitKey, type RateLimitDecision, rateLimitPolicyHeader } from './limiter.ts';

export const rateLimitPhase: RequestPhase = {
  name: 'ratelimit',
  applies: (action) => action.rateLimit !== undefined,
  run(ctx, services) {
    const rl = ctx.action.rateLimit!;
    const key = limitKey(rl, ctx.identity, ctx.req.socket);
    const shared = rl.scope === 'global' ? services.globalLimiter : undefined;
    if (shared) return shared.take(rl, key).then((decision) => settle(ctx, rl, decision));
    return settle(ctx, rl, services.rateLimiter.take(rl, key));
  },
};

function settle(ctx: PolicyContext, rl: RateLimitPolicy, decision: RateLimitDecision): Verdict {
  const deferred: string[] = [];
  if (!applyLimit(ctx.res, rl, decision, ctx.fail, deferred)) return REJECTED;
  ctx.deferredHeaders = deferred;
  return NEXT;
}

/** Puts the RateLimit headers in `deferred`; answers 429 and returns false when the budget is spent. */
function applyLimit(
  res: ServerResponse,
  rl: RateLimitPolicy,
  decision: RateLimitDecision,
  fail: (name: ErrorName, detail: string) => void,
  deferred: string[],
): boolean {
  const remaining = `"default";r=${decision.remaining};t=${decision.retryAfterSeconds}`;
  if (decision.allowed) {
    deferred.push('ratelimit-policy', rateLimitPolicyHeader(rl), 'ratelimit', remaining);
    return true;
  }
  res.setHeader('ratelimit-policy', rateLimitPolicyHeader(rl));
  res.setHeader('ratelimit', remaining);
  res.setHeader('retry-after', String(decision.retryAfterSeconds));
  fail(
    'rateLimited',
    `at most ${rl.requests} requests per ${rl.windowMs / 1000} s; retry in ${decision.retryAfterSeconds} s`,
  );
  return false;
}
