/**
 * The request path as the gateway matches and forwards it: one normalisation, so that what a route's prefix was
 * checked against is exactly what the upstream receives, and no spelling of a path can reach outside it. The rules
 * (docs/paths.md has the table, compared case by case with nginx in test/dataplane/request-paths.test.ts):
 *
 * - the fragment (`#…`, never part of a request target) is dropped; the query is kept as sent;
 * - percent-encoded unreserved characters are decoded (`%41` → `A`, `%2E` → `.`; RFC 3986 §6.2.2.2); other
 *   escapes are kept, with upper-case hex; a malformed escape or an encoded NUL is refused;
 * - an encoded slash `%2F` is decoded (as nginx does), kept encoded, or refused — `spec.paths.escapedSlashes` of the
 *   ModelGateway: `Decode` (default), `Keep`, `Reject`; a backslash, raw or `%5C`, goes on as `%5C`, or is refused;
 * - `//` becomes `/` (unless `spec.paths.mergeSlashes: false`);
 * - dot segments are removed (RFC 3986 §5.2.4); a `..` above the root is refused;
 * - a segment that some upstream would read as a dot segment is refused: `..;x` and `.;x` (path parameters, as
 *   Tomcat/Spring strip them), `..\` or `.%5C` (backslash as a separator, as Windows servers treat it), and, when
 *   encoded slashes are kept, `..%2F`;
 * - bytes outside visible ASCII are refused (Node's parser refuses most of them already).
 *
 * Refusals are 400 answers; the caller words them.
 */

export type EscapedSlashes = 'Decode' | 'Keep' | 'Reject';

export interface PathOptions {
  readonly escapedSlashes: EscapedSlashes;
  readonly mergeSlashes: boolean;
}

export const DEFAULT_PATH_OPTIONS: PathOptions = { escapedSlashes: 'Decode', mergeSlashes: true };

/** A path that cannot be served, and why. */
export class PathError {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}

const HEX = '0123456789ABCDEF';

/** Whether `c` (a char code) is an RFC 3986 unreserved character. */
function unreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2d || // -
    c === 0x2e || // .
    c === 0x5f || // _
    c === 0x7e // ~
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Whether the path (no query, no fragment) needs the slow path: it holds `%`, `\`, `;`, a `//`, a segment starting
 * with `.`, or a byte outside visible ASCII. Almost every request path does not, and is returned as it is.
 */
function needsWork(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x25 /* % */ || c === 0x5c /* \ */ || c === 0x3b /* ; */ || c <= 0x20 || c >= 0x7f) return true;
    if (c === 0x2f /* / */) {
      const next = path.charCodeAt(i + 1);
      if (next === 0x2f || next === 0x2e) return true;
    }
  }
  return false;
}

/**
 * Normalises an origin-form path (it starts with `/`; no query). Returns the path to match and forward, or why it
 * is refused.
 */
export function normalizePath(path: string, options: PathOptions = DEFAULT_PATH_OPTIONS): string | PathError {
  if (!needsWork(path)) return path;
  // 1. Escapes: decode what is safe to decode, validate and upper-case the rest.
  let decoded = '';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return new PathError('the path holds a byte that is not visible ASCII');
    if (c !== 0x25) {
      // A backslash is not a URI character: it goes on encoded (what nginx sends once it has normalised a path).
      if (c === 0x5c && options.escapedSlashes === 'Reject') return new PathError('the path holds a backslash');
      decoded += c === 0x5c ? '%5C' : path[i];
      continue;
    }
    const hi = hexValue(path.charCodeAt(i + 1));
    const lo = hexValue(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return new PathError(`malformed percent-encoding at "${path.slice(i, i + 3)}"`);
    const v = hi * 16 + lo;
    i += 2;
    if (v === 0) return new PathError('the path holds an encoded NUL (%00)');
    if (unreserved(v)) decoded += String.fromCharCode(v);
    else if (v === 0x2f) {
      if (options.escapedSlashes === 'Reject') return new PathError('the path holds an encoded slash (%2F)');
      decoded += options.escapedSlashes === 'Decode' ? '/' : '%2F';
    } else if (v === 0x5c) {
      if (options.escapedSlashes === 'Reject') return new PathError('the path holds an encoded backslash (%5C)');
      decoded += '%5C';
    } else decoded += `%${HEX[hi]}${HEX[lo]}`;
  }
  // 2. Segments: merge slashes, remove dot segments, refuse what an upstream could read as one.
  const segments = decoded.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  let trailingSlash = false;
  for (let i = 1; i <= last; i++) {
    const seg = segments[i]!;
    trailingSlash = false;
    if (seg === '') {
      if (i === last || !options.mergeSlashes) {
        if (i === last) trailingSlash = true;
        else out.push('');
      }
      continue;
    }
    if (seg === '.') {
      if (i === last) trailingSlash = true;
      continue;
    }
    if (seg === '..') {
      if (out.length === 0) return new PathError('the path climbs above the root (..)');
      out.pop();
      if (i === last) trailingSlash = true;
      continue;
    }
    const hidden = hiddenDotSegment(seg, options.escapedSlashes === 'Keep');
    if (hidden) return new PathError(`the segment "${seg}" would be a dot segment (${hidden}) to some servers`);
    out.push(seg);
  }
  let result = `/${out.join('/')}`;
  if (trailingSlash && out.length > 0) result += '/';
  return result;
}

/**
 * Why a segment would be a dot segment to some server, if it would: path parameters stripped (`..;jsessionid`), a
 * backslash taken as a separator (`..\x`, `x%5C..`), or an encoded slash decoded after us (`..%2Fx`).
 */
function hiddenDotSegment(seg: string, slashesKept: boolean): string | undefined {
  if (
    seg.charCodeAt(0) !== 0x2e &&
    !seg.includes('\\') &&
    !seg.includes('%5C') &&
    !(slashesKept && seg.includes('%2F'))
  )
    return undefined;
  const beforeParams = seg.split(';')[0]!;
  if (beforeParams === '.' || beforeParams === '..') return 'path parameters';
  const pieces = seg.split(slashesKept ? /%5C|%2F|;/ : /%5C|;/);
  if (pieces.length > 1 && pieces.some((p) => p === '.' || p === '..'))
    return slashesKept && seg.includes('%2F') ? 'encoded separators' : 'backslash';
  return undefined;
}

/**
 * Splits a request target into the path to match, the query (without `?`) and whether it had one; the fragment is
 * dropped. Absolute-form targets (`http://host/path`, RFC 9112 §3.2.2, what proxies send) give their authority,
 * which then stands for the Host header. Undefined for anything else (`*`, authority-form, garbage).
 */
export function splitTarget(
  url: string,
): { path: string; query: string; hasQuery: boolean; authority?: string } | undefined {
  let target = url;
  let authority: string | undefined;
  if (target.charCodeAt(0) !== 0x2f) {
    const m = /^https?:\/\/([^/?#]*)/i.exec(target);
    if (!m) return undefined;
    authority = m[1]!;
    target = target.slice(m[0].length) || '/';
    if (target.charCodeAt(0) !== 0x2f) target = `/${target}`;
  }
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  return authority === undefined ? { path, query, hasQuery: q >= 0 } : { path, query, hasQuery: q >= 0, authority };
}

/**
 * Whether a Host value is an RFC 3986 authority without userinfo: a registered name (unreserved characters and
 * sub-delims; no escapes, which no DNS name needs and nginx refuses too), an IPv4 address or a bracketed IPv6
 * literal, and an optional port.
 */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=]+)(?::[0-9]{0,5})?$/;
export function validHost(value: string): boolean {
  return HOST.test(value) && !value.startsWith('.') && !value.includes('..');
}

/**
 * The authority of an absolute-form target: a DNS name or IP literal and an optional port, nothing else (what nginx's
 * request-line parser accepts there).
 */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{0,5})?$/;
export function validAuthority(value: string): boolean {
  return AUTHORITY.test(value) && !value.startsWith('.') && !value.includes('..');
}
