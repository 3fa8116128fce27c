/**
 * Request-time traffic policies of a rule: CORS (preflights answered here, headers added to answers) and API-key
 * authentication. Keys are compared by their sha256: the presented key is hashed and looked up, so neither the
 * lookup time nor memory ever involves a stored key.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthPolicy, CorsPolicy } from '../snapshot/types.ts';

/** The outcome of authentication. */
export type AuthOutcome =
  | { readonly ok: true; readonly subject: string; readonly provider: string; readonly header: string }
  | { readonly ok: false; readonly error: 'unauthenticated' | 'forbidden'; readonly detail: string };

/** Finds a valid API key in the request (header first, then query) and checks the allow-list. */
export function authenticate(req: IncomingMessage, query: string, policy: AuthPolicy): AuthOutcome {
  let params: URLSearchParams | undefined;
  let presented = false;
  for (const provider of policy.providers) {
    let key = req.headers[provider.header];
    if (Array.isArray(key)) key = key[0];
    if (key === undefined && provider.query && query) {
      params ??= new URLSearchParams(query);
      key = params.get(provider.query) ?? undefined;
    }
    if (key === undefined || key === '') continue;
    presented = true;
    const subject = provider.keys[createHash('sha256').update(key).digest('hex')];
    if (subject === undefined) continue;
    if (policy.allowSubjects && !policy.allowSubjects.includes(subject))
      return { ok: false, error: 'forbidden', detail: `${subject} may not call this model API` };
    return { ok: true, subject, provider: provider.name, header: provider.header };
  }
  return {
    ok: false,
    error: 'unauthenticated',
    detail: presented
      ? 'the API key is not valid'
      : `send an API key in the ${policy.providers[0]?.header ?? 'x-api-key'} header`,
  };
}

/** The `WWW-Authenticate` challenge for a policy. */
export function challenge(policy: AuthPolicy): string {
  return policy.providers.map((p) => `ApiKey header="${p.header}"`).join(', ') || 'ApiKey';
}

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
