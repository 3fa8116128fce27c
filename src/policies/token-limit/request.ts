/**
 * The token-budget phase of OpenAI-compatible APIs: before the call only "is anything left?" (429 when not); the
 * cost is known when the model reports its usage, which the metering phase reads from the answer (asking a streaming
 * server to include it) and hands to this phase, which spends it from the caller's bucket.
 */
import type { ServerResponse } from 'node:http';
import { type BodyPhase, NEXT, REJECTED } from '../phase.ts';
import { limitKey, rateLimitHeaders } from '../rate-limit/limiter.ts';

export const tokenLimitPhase: BodyPhase = {
  name: 'tokens',
  applies: (action) => action.tokenLimit !== undefined,
  async run(ctx, exchange, services) {
    const tl = ctx.action.tokenLimit!;
    const { res } = ctx;
    const key = limitKey(tl, ctx.identity, ctx.req.socket);
    const shared = tl.scope === 'global' ? services.globalLimiter : undefined;
    const decision = shared ? await shared.spend(tl, key, 0, 1) : services.rateLimiter.spend(tl, key, 0, 1);
    for (const [name, value] of Object.entries(rateLimitHeaders(tl, decision, 'tokens')))
      appendHeader(res, name, value);
    if (!decision.allowed) {
      res.setHeader('retry-after', String(decision.retryAfterSeconds));
      ctx.fail(
        'tokenLimited',
        `at most ${tl.requests} tokens per ${tl.windowMs / 1000} s; retry in ${decision.retryAfterSeconds} s`,
      );
      return REJECTED;
    }
    exchange.usageListeners.push(({ total }) => {
      if (shared) void shared.spend(tl, key, total, Number.NEGATIVE_INFINITY);
      else services.rateLimiter.spend(tl, key, total, Number.NEGATIVE_INFINITY);
    });
    return NEXT;
  },
};

/** Adds a value to a response header list (RateLimit fields of several policies share one header). */
function appendHeader(res: ServerResponse, name: string, value: string): void {
  const existing = res.getHeader(name);
  res.setHeader(name, existing === undefined ? value : `${String(existing)}, ${value}`);
}
