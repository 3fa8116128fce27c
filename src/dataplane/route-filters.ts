/**
 * Gateway API HTTPRoute filters at request time: header modifiers on the upstream request and on the response,
 * redirects, and request mirroring. The compiler has already resolved everything (lower-case names, clusters).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeaderModifier, PathMatch, RedirectAction, RouteFilters } from '../snapshot/types.ts';
import { dropHeaders } from './headers.ts';
import { rewritePath } from './rewrite.ts';
import { exchangeStatus } from './upstream/transport.ts';
import type { RuntimeCluster } from './upstream-registry.ts';

/** A mirror's answer is awaited (and dropped) this long at most, so shadow traffic never piles up connections. */
const MIRROR_TIMEOUT_MS = 30_000;

/** Applies a modifier to a flat [name, value, …] header list (remove, then set, then add), in place. */
export function modifyHeaderList(headers: string[], modifier: HeaderModifier): void {
  const drop = new Set([...modifier.remove, ...modifier.set.map(([name]) => name)]);
  if (drop.size > 0) dropHeaders(headers, (name) => drop.has(name));
  for (const [name, value] of modifier.set) headers.push(name, value);
  for (const [name, value] of modifier.add) headers.push(name, value);
}

/** Applies a modifier to a response header object, in place; `add` appends a separate header line. */
export function modifyHeaderObject(headers: Record<string, string | string[]>, modifier: HeaderModifier): void {
  for (const name of modifier.remove) delete headers[name];
  for (const [name, value] of modifier.set) headers[name] = value;
  for (const [name, value] of modifier.add) {
    const existing = headers[name];
    headers[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
}

/** The rule's and then the backend's filters of one kind, in order. */
export function collect<K extends keyof RouteFilters>(
  rule: RouteFilters | undefined,
  backend: RouteFilters | undefined,
  key: K,
): NonNullable<RouteFilters[K]>[] {
  const out: NonNullable<RouteFilters[K]>[] = [];
  if (rule?.[key] !== undefined) out.push(rule[key]!);
  if (backend?.[key] !== undefined) out.push(backend[key]!);
  return out;
}

/**
 * Answers a RequestRedirect. Unset parts come from the request; when the scheme changes and no port is given the
 * scheme's well-known port is used (left out of Location), otherwise the port the request came in on.
 */
export function sendRedirect(
  req: IncomingMessage,
  res: ServerResponse,
  action: RedirectAction,
  match: PathMatch,
  path: string,
  query: string,
): void {
  const requestScheme = 'http';
  const hostHeader = req.headers.host ?? '';
  const requestHost = hostHeader.replace(/:\d+$/, '');
  const requestPort = /:(\d+)$/.exec(hostHeader)?.[1] ?? String(req.socket.localPort ?? 80);
  const scheme = action.scheme ?? requestScheme;
  const host = action.hostname ?? requestHost;
  let port: string | undefined;
  if (action.port !== undefined) port = String(action.port);
  else if (action.scheme !== undefined && action.scheme !== requestScheme) port = undefined;
  else port = requestPort;
  const wellKnown = (scheme === 'http' && port === '80') || (scheme === 'https' && port === '443');
  const target = action.path ? rewritePath(action.path, match, path) : path;
  const location = `${scheme}://${host}${port && !wellKnown ? `:${port}` : ''}${target}${query ? `?${query}` : ''}`;
  const headers: Record<string, string | string[]> = { location, 'content-length': '0' };
  if (action.responseHeaders) modifyHeaderObject(headers, action.responseHeaders);
  res.writeHead(action.statusCode, headers);
  res.end();
}

/**
 * Sends copies of a request to mirror clusters and ignores their answers; a request with a body has been read first
 * (within the route's body limit) and every copy gets the same bytes. A mirror never delays or fails the real request.
 */
export function mirror(
  clusters: readonly { cluster: RuntimeCluster; percent: number }[],
  method: string,
  path: string,
  headers: string[],
  body?: Buffer,
): void {
  for (const { cluster, percent } of clusters) {
    if (percent < 100 && Math.random() * 100 >= percent) continue;
    const endpoint = cluster.balancer.pick(Date.now(), new Set());
    if (!endpoint) continue;
    exchangeStatus(endpoint.pool, {
      method,
      path: cluster.config.basePath + path,
      headers,
      body: body ?? null,
      headersTimeout: MIRROR_TIMEOUT_MS,
      timeoutMs: MIRROR_TIMEOUT_MS,
    }).catch(() => {});
  }
}
