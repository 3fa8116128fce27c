/**
 * The authentication phase: the rule's providers decide (a JWT may wait for its issuer's keys); a caller who is not
 * authenticated gets 401 with the challenge, one who is not allowed 403, and an unreachable external service 503.
 * The identity found goes on with the request (to the rate-limit key and to the model as headers).
 */
import type { ServerResponse } from 'node:http';
import type { ErrorName } from '../../errors/catalog.ts';
import type { AuthPolicy } from '../../snapshot/types.ts';
import { NEXT, type PolicyContext, REJECTED, type RequestPhase, type Verdict } from '../phase.ts';
import { type AuthOutcome, authenticate, challenge } from './authenticate.ts';

export const authPhase: RequestPhase = {
  name: 'auth',
  applies: (action) => action.auth !== undefined,
  run(ctx, services) {
    const auth = ctx.action.auth!;
    const outcome = authenticate(ctx.req, ctx.query, auth, services.jwks);
    return outcome instanceof Promise ? outcome.then((o) => settle(ctx, auth, o)) : settle(ctx, auth, outcome);
  },
};

function settle(ctx: PolicyContext, auth: AuthPolicy, outcome: AuthOutcome): Verdict {
  if (!authorized(outcome, auth, ctx.res, ctx.fail)) return REJECTED;
  ctx.identity = outcome;
  return NEXT;
}

/** Answers 401 (with the challenge), 403 or 503 when authentication failed; true when the request may go on. */
export function authorized(
  outcome: AuthOutcome,
  auth: AuthPolicy,
  res: ServerResponse,
  fail: (name: ErrorName, detail: string) => void,
): outcome is Extract<AuthOutcome, { ok: true }> {
  if (outcome.ok) return true;
  if (outcome.error === 'unauthenticated') res.setHeader('www-authenticate', challenge(auth));
  fail(outcome.error === 'unavailable' ? 'authUnavailable' : outcome.error, outcome.detail);
  return false;
}
