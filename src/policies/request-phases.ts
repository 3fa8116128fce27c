/**
 * The phase table: every traffic policy's request step, in the order the data plane runs them. This order is the
 * documented one (README, "Policies"): address lists first (cheapest, and a refused address learns nothing more),
 * then CORS (a preflight carries no credentials, so it is answered before authentication), authentication, and the
 * rate limit (keyed by the identity authentication found). After the body is read: validation (a request the model
 * would refuse costs no tokens and fills no cache), metering (OpenAI-compatible APIs: the usage the answer reports,
 * for metrics, logs, traces and the budget), the token budget, then the cache (which stores what the client gets).
 *
 * A new policy adds its folder under src/policies/, its schema field, its compile step (compile-steps.ts) and a
 * line here; the data plane does not change.
 */
import { authPhase } from './auth/request.ts';
import { cachePhase } from './cache/request.ts';
import { corsPhase } from './cors/request.ts';
import { ipAccessPhase } from './ip-access/request.ts';
import { meteringPhase } from './metering/request.ts';
import type { BodyPhase, ForwardAction, RequestPhase } from './phase.ts';
import { rateLimitPhase } from './rate-limit/request.ts';
import { tokenLimitPhase } from './token-limit/request.ts';
import { validationPhase } from './validation/request.ts';

/** Before the body: run on the request head. */
export const REQUEST_PHASES: readonly RequestPhase[] = [ipAccessPhase, corsPhase, authPhase, rateLimitPhase];

/** After the whole body was read (within the body limit). */
export const BODY_PHASES: readonly BodyPhase[] = [validationPhase, meteringPhase, tokenLimitPhase, cachePhase];

/** The phases one rule runs. */
export interface ActionPhases {
  readonly request: readonly RequestPhase[];
  readonly body: readonly BodyPhase[];
}

const NONE: ActionPhases = { request: [], body: [] };

/** The phases of the table that a rule's action has, in table order (one shared empty value for a bare rule). */
export function phasesOf(action: ForwardAction): ActionPhases {
  const request = REQUEST_PHASES.filter((p) => p.applies(action));
  const body = BODY_PHASES.filter((p) => p.applies(action));
  return request.length === 0 && body.length === 0 ? NONE : { request, body };
}
