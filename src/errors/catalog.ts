/**
 * The one catalog of errors the gateway itself answers with. Every entry has a stable code (never reused or renamed),
 * an HTTP status, a title and a documentation text; docs/errors.md is generated from this list and a check keeps
 * them equal. Bodies are RFC 9457 problem details.
 */

/** One error the gateway can produce. */
export interface ErrorEntry {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  /** What it means and what the client can do, for docs/errors.md. */
  readonly doc: string;
}

function entry(code: string, status: number, title: string, doc: string): ErrorEntry {
  return { code, status, title, doc };
}

/** The catalog, keyed by a name used in code. */
export const ERRORS = {
  malformedRequest: entry(
    'MG-400-MALFORMED',
    400,
    'Malformed request',
    'The request could not be parsed: a bad URL, a bad header value, or a body that does not match its declared length.',
  ),
  requestTimeout: entry(
    'MG-408-REQUEST-TIMEOUT',
    408,
    'Request timeout',
    'The request (its head or its body) did not arrive in time: the route timeout counts from the first byte, and the listener closes connections whose head or body stalls (`spec.listener` of the ModelGateway). The connection is closed.',
  ),
  unknownVersion: entry(
    'MG-400-UNKNOWN-VERSION',
    400,
    'Unknown model version',
    'The version-pin header names a version this model API does not have. The `versions` member lists the valid ones.',
  ),
  invalidRequest: entry(
    'MG-400-INVALID-REQUEST',
    400,
    'Request does not match the API description',
    'Request validation is on for this model API and the request breaks its published schema (for V2 tensors also the datatype, shape and data length). The `violations` member lists every problem with its JSON pointer (`/inputs/0/data`) or parameter (`query:limit`).',
  ),
  unauthenticated: entry(
    'MG-401-UNAUTHENTICATED',
    401,
    'Authentication required',
    'The model API requires credentials (see `WWW-Authenticate` and the `securitySchemes` of its document) and none valid were sent.',
  ),
  forbidden: entry(
    'MG-403-FORBIDDEN',
    403,
    'Forbidden',
    'The credentials are valid, but their identity is not allowed to call this model API.',
  ),
  routeNotFound: entry(
    'MG-404-NO-ROUTE',
    404,
    'No route',
    'No model API or route matches the request host, path and method. The docs portal (`GET /`) lists what is served.',
  ),
  documentNotFound: entry(
    'MG-404-NO-DOCUMENT',
    404,
    'No such document',
    'The docs portal has no OpenAPI document at this path: the model API or version is not served (see the landing page).',
  ),
  methodNotAllowed: entry(
    'MG-405-METHOD-NOT-ALLOWED',
    405,
    'Method not allowed',
    'The docs portal and the published documents answer GET and HEAD only.',
  ),
  payloadTooLarge: entry(
    'MG-413-PAYLOAD-TOO-LARGE',
    413,
    'Payload too large',
    'The request body is larger than the limit of this route (`maxRequestBodyBytes`). The `limit` member gives it in bytes.',
  ),
  rateLimited: entry(
    'MG-429-RATE-LIMITED',
    429,
    'Too many requests',
    'The rate limit of this model API is spent for now; `Retry-After` says when to try again, the `RateLimit` headers show the budget.',
  ),
  versionGone: entry(
    'MG-410-VERSION-GONE',
    410,
    'Version retired',
    'The model version passed its sunset date and is no longer served. The `successor` member (and the `Link: rel="successor-version"` header) names the version to use; the changelog says what changed.',
  ),
  tokenLimited: entry(
    'MG-429-TOKEN-LIMITED',
    429,
    'Token budget spent',
    'The token budget of this model API (the prompt and completion tokens the model reported) is spent for now; `Retry-After` says when it has refilled enough.',
  ),
  headersTooLarge: entry(
    'MG-431-HEADERS-TOO-LARGE',
    431,
    'Request header fields too large',
    'The request line and headers together exceed the gateway limit (16 KiB by default).',
  ),
  routeMisconfigured: entry(
    'MG-500-ROUTE-INVALID',
    500,
    'Route misconfigured',
    'The route matched, but its configuration refers to something that does not exist (see the resource status).',
  ),
  internalError: entry(
    'MG-500-INTERNAL',
    500,
    'Internal gateway error',
    'An unexpected error inside the gateway. It is logged with the request id; please report it.',
  ),
  notImplemented: entry(
    'MG-501-NOT-IMPLEMENTED',
    501,
    'Not implemented',
    'The request uses a transfer coding other than `chunked` (RFC 9112 §6.1): the gateway cannot read its body.',
  ),
  upstreamConnectFailure: entry(
    'MG-502-UPSTREAM-CONNECT',
    502,
    'Upstream connect failure',
    'The gateway could not connect to, or lost the connection with, the model server before a response arrived.',
  ),
  upstreamBadResponse: entry(
    'MG-502-UPSTREAM-PROTOCOL',
    502,
    'Invalid upstream response',
    'The model server answered with something that is not valid HTTP.',
  ),
  upstreamUnavailable: entry(
    'MG-503-UPSTREAM-UNAVAILABLE',
    503,
    'Upstream unavailable',
    'The model version has no healthy endpoint right now (none resolved, all failing health checks or ejected). Retry later.',
  ),
  authUnavailable: entry(
    'MG-503-AUTH-UNAVAILABLE',
    503,
    'Authentication service unavailable',
    'The external auth service did not answer in time or failed, and the provider fails closed. Retry later.',
  ),
  shuttingDown: entry(
    'MG-503-SHUTTING-DOWN',
    503,
    'Gateway shutting down',
    'This gateway replica is draining for shutdown; retry and another replica will answer.',
  ),
  upstreamTimeout: entry(
    'MG-504-UPSTREAM-TIMEOUT',
    504,
    'Upstream timeout',
    'The model server did not send response headers within the route timeout (`timeouts.request` / `backendRequest`).',
  ),
} as const satisfies Record<string, ErrorEntry>;

/** Name of a catalog entry. */
export type ErrorName = keyof typeof ERRORS;

/** Renders the catalog as the Markdown reference in docs/errors.md. */
export function renderErrorCatalog(): string {
  const lines = [
    '# Gateway error catalog',
    '',
    '<!-- generated from src/errors/catalog.ts by `npm run generate`; do not edit -->',
    '',
    'Every response the gateway makes itself (as opposed to one relayed from a model server) is an RFC 9457',
    '`application/problem+json` body: `type` (this page, anchored at the code), `title`, `status`, `detail`, `code`,',
    '`instance` (the request path) and `requestId` (the `X-Request-Id` of the request). Codes are stable.',
    '',
    '| code | status | title |',
    '| --- | --- | --- |',
  ];
  const entries = Object.values(ERRORS);
  for (const e of entries) lines.push(`| [\`${e.code}\`](#${e.code.toLowerCase()}) | ${e.status} | ${e.title} |`);
  for (const e of entries) lines.push('', `## ${e.code}`, '', `**${e.status} ${e.title}.** ${e.doc}`);
  return `${lines.join('\n')}\n`;
}
