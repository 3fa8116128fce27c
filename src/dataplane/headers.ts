/** Header handling for proxying: hop-by-hop removal (RFC 9110 §7.6.1) and forwarding headers. */
import type { IncomingMessage, ServerResponse } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Headers the gateway sets itself on the upstream request; client values are replaced, not trusted. */
const REPLACED_UPSTREAM = new Set(['host', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id']);

/** What the gateway adds to an upstream request. */
export interface ForwardingInfo {
  readonly host: string | undefined;
  readonly clientAddress: string | undefined;
  readonly proto: 'http' | 'https';
  readonly requestId: string;
}

/** Extra hop-by-hop names a sender listed in its Connection header. */
function connectionTokens(value: string | undefined): Set<string> | undefined {
  // The usual values name no other header (skips a split on most requests and responses).
  if (!value || value === 'keep-alive' || value === 'close' || value === 'Keep-Alive' || value === 'Close')
    return undefined;
  const tokens = value
    .toLowerCase()
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t && t !== 'close' && t !== 'keep-alive');
  return tokens.length > 0 ? new Set(tokens) : undefined;
}

/**
 * Upstream request headers as a flat [name, value, …] list (undici's cheapest form), built from rawHeaders so
 * repeated headers and their order survive.
 */
export function upstreamRequestHeaders(req: IncomingMessage, info: ForwardingInfo): string[] {
  const raw = req.rawHeaders;
  const listed = connectionTokens(req.headers.connection);
  const out: string[] = [];
  let xff: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name.charCodeAt(0) === 58 /* : */) continue; // HTTP/2 pseudo-headers are not headers upstream
    // x-modelgate-*: identity headers only the gateway may set (subject, key metadata).
    if (HOP_BY_HOP.has(name) || REPLACED_UPSTREAM.has(name) || listed?.has(name) || name.startsWith('x-modelgate-'))
      continue;
    if (name === 'x-forwarded-for') {
      xff = xff === undefined ? raw[i + 1]! : `${xff}, ${raw[i + 1]!}`;
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  if (
    String(req.headers.te ?? '')
      .toLowerCase()
      .includes('trailers')
  )
    out.push('te', 'trailers');
  if (info.host !== undefined) out.push('host', info.host);
  const client = info.clientAddress?.startsWith('::ffff:') ? info.clientAddress.slice(7) : info.clientAddress;
  if (client) out.push('x-forwarded-for', xff === undefined ? client : `${xff}, ${client}`);
  else if (xff !== undefined) out.push('x-forwarded-for', xff);
  const authority = req.headers.host ?? (req.headers[':authority'] as string | undefined);
  if (authority !== undefined) out.push('x-forwarded-host', authority);
  out.push('x-forwarded-proto', info.proto, 'x-request-id', info.requestId);
  return out;
}

/**
 * Response headers to relay to the client, from the upstream's flat [name, value, …] list: lower-case names, the
 * hop-by-hop ones (and those its Connection header lists) left out, and those the gateway sets itself (`replaced`,
 * and x-request-id). Repeated headers stay separate entries, in order — the form writeHead takes directly.
 */
export function downstreamHeaderList(raw: readonly string[], replaced: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name)) {
      if (name === 'connection') listed = connectionTokens(raw[i + 1]);
      continue;
    }
    if (name === 'x-request-id' || Object.hasOwn(replaced, name)) continue;
    out.push(name, raw[i + 1]!);
  }
  if (listed) dropHeaders(out, (name) => listed.has(name));
  return out;
}

/** A flat header list as an object for the policies that edit headers by name; repeated headers become arrays. */
export function headerObject(list: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!;
    if (name === '__proto__') continue; // a valid token, but not a property to assign
    const value = list[i + 1]!;
    const previous = out[name];
    if (previous === undefined) out[name] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else out[name] = [previous, value];
  }
  return out;
}

/** Removes, in place, the entries of a flat [name, value, …] list whose name `drop` picks. */
export function dropHeaders(list: string[], drop: (name: string) => boolean): void {
  let w = 0;
  for (let r = 0; r < list.length; r += 2) {
    if (drop(list[r]!)) continue;
    list[w++] = list[r]!;
    list[w++] = list[r + 1]!;
  }
  list.length = w;
}

/** Replaces (or adds) a header in a flat list, removing every other value of it. */
export function setHeaderInList(list: string[], name: string, value: string): void {
  dropHeaders(list, (n) => n === name);
  list.push(name, value);
}

/** The first value of a lower-case header name in a flat list. */
export function headerInList(list: readonly string[], name: string): string | undefined {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return list[i + 1];
  return undefined;
}

/** Sets every header of a flat list on a response that has not started. */
export function setHeadersFromList(res: ServerResponse, list: readonly string[]): void {
  if (res.headersSent) return;
  for (let i = 0; i < list.length; i += 2) res.setHeader(list[i]!, list[i + 1]!);
}
