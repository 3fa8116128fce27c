/**
 * CORS at request time: a preflight (OPTIONS with Access-Control-Request-Method) is answered here without
 * credentials; an actual request gets the response headers its origin is allowed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CorsPolicy } from '../../snapshot/types.ts';
import { ANSWERED, NEXT, type RequestPhase } from '../phase.ts';

function allowedOrigin(policy: CorsPolicy, origin: string): string | undefined {
  if (policy.allowOrigins.includes('*')) return policy.allowCredentials ? origin : '*';
  return policy.allowOrigins.includes(origin) ? origin : undefined;
}

/** Answers a CORS preflight (OPTIONS with Access-Control-Request-Method); false when the request is not one. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, policy: CorsPolicy): boolean {
  const origin = req.headers.origin;
  if (req.method !== 'OPTIONS' || !origin || !req.headers['access-control-request-method']) return false;
  const allowed = allowedOrigin(policy, origin);
  const headers: Record<string, string> = { vary: 'origin', 'content-length': '0' };
  if (allowed) {
    headers['access-control-allow-origin'] = allowed;
    headers['access-control-allow-methods'] = policy.allowMethods.join(', ');
    headers['access-control-allow-headers'] = policy.allowHeaders.join(', ');
    headers['access-control-max-age'] = String(policy.maxAgeSeconds);
    if (policy.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  }
  // A refused origin gets no CORS headers: the browser then blocks the call, as the standard intends.
  res.writeHead(204, headers);
  res.end();
  return true;
}

/** CORS headers for an actual (non-preflight) response, or undefined when none apply. */
export function corsResponseHeaders(req: IncomingMessage, policy: CorsPolicy): Record<string, string> | undefined {
  const origin = req.headers.origin;
  if (!origin) return undefined;
  const allowed = allowedOrigin(policy, origin);
  if (!allowed) return { vary: 'origin' };
  return {
    'access-control-allow-origin': allowed,
    vary: 'origin',
    ...(policy.exposeHeaders.length > 0 ? { 'access-control-expose-headers': policy.exposeHeaders.join(', ') } : {}),
    ...(policy.allowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
  };
}

/** The phase: a preflight is answered here (before authentication: it carries no credentials). */
export const corsPhase: RequestPhase = {
  name: 'cors',
  applies: (action) => action.cors !== undefined,
  run(ctx, services) {
    const { req, res } = ctx;
    const policy = ctx.action.cors!;
    if (answerPreflight(req, res, policy)) {
      services.metrics.observeRequest(
        ctx.rule.labels.api,
        '',
        res.statusCode,
        (performance.now() - ctx.started) / 1000,
      );
      return ANSWERED;
    }
    const headers = corsResponseHeaders(req, policy);
    if (headers) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    return NEXT;
  },
};
