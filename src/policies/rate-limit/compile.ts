/**
 * Rate limits at compile time: a token bucket per caller (the authenticated subject when the API authenticates, else
 * the client address, or one for the route), per replica or in Redis when the ModelGateway configures it. The token
 * budget (token-limit/) compiles to the same bucket, counting model tokens instead of requests.
 */
import { durationMs } from '../../common/durations.ts';
import type { RateLimitPolicy } from '../../snapshot/types.ts';
import type { CompileStep, PolicyInput } from '../compile-step.ts';

export const rateLimitCompile: CompileStep<'rateLimit'> = {
  field: 'rateLimit',
  compile(input) {
    const rl = input.api.spec.rateLimit;
    return rl ? bucket(input, 'rateLimit', rl, rl.requests) : undefined;
  },
};

/** A bucket of `amount` per `limit.per`. */
export function bucket(
  { api, gateway, id, problems }: PolicyInput,
  kind: string,
  limit: { per: string; burst?: number; key?: 'subject' | 'clientIP' | 'route'; scope?: 'local' | 'global' },
  amount: number,
): RateLimitPolicy {
  if (limit.scope === 'global' && !gateway?.spec.redis)
    problems.push(`${kind}.scope global needs spec.redis in the ModelGateway; limiting per replica meanwhile`);
  return {
    // The id names the settings too: a changed limit starts with fresh buckets.
    id: `${id}|${kind}|${amount}/${limit.per}/${limit.burst ?? ''}/${limit.key ?? ''}`,
    requests: amount,
    windowMs: durationMs(limit.per) ?? 60_000,
    burst: limit.burst ?? amount,
    key: limit.key ?? (api.spec.auth ? 'subject' : 'clientIP'),
    scope: limit.scope === 'global' && gateway?.spec.redis ? 'global' : 'local',
  };
}
