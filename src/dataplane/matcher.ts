/**
 * The route matcher, built once per snapshot. Lookup cost does not grow with the number of routes: hosts are found
 * by map lookups, exact paths by one map lookup, prefixes by walking the request path's segments from the longest
 * candidate to `/`, each a map lookup. Only RegularExpression matches are scanned.
 *
 * Precedence follows Gateway API HTTPRoute: the most specific hostname table first (exact, then the longest wildcard,
 * then any-host), falling through when nothing in it matches; inside a table an Exact path beats the longest PathPrefix,
 * which beats a RegularExpression; on equal paths a match with a method beats one without, then more header matches,
 * then more query matches, then the older rule (the order of the snapshot).
 */

import { compileSafeRegex } from '../common/safe-regex.ts';
import type { PathMatch, RouteMatch, RouteRule, ValueMatch } from '../snapshot/types.ts';

/** A successful match: the rule, which of its matches applied, and the path prefix it consumed. */
export interface MatchResult {
  readonly rule: RouteRule;
  readonly match: RouteMatch;
}

/** What the matcher needs to know about a request. */
export interface MatchRequest {
  readonly host: string;
  readonly path: string;
  readonly method: string;
  readonly query: string;
  readonly header: (name: string) => string | undefined;
}

interface Entry {
  readonly rule: RouteRule;
  readonly match: RouteMatch;
  readonly order: number;
  readonly headers: readonly CompiledValueMatch[];
  readonly query: readonly CompiledValueMatch[];
  readonly regex?: { test(value: string): boolean };
}

interface CompiledValueMatch {
  readonly name: string;
  readonly test: (value: string | undefined) => boolean;
}

class Table {
  readonly exact = new Map<string, Entry[]>();
  readonly prefix = new Map<string, Entry[]>();
  readonly regex: Entry[] = [];

  add(entry: Entry): void {
    const { path } = entry.match;
    if (path.type === 'Exact') push(this.exact, path.value, entry);
    else if (path.type === 'PathPrefix') push(this.prefix, normalizePrefix(path.value), entry);
    else this.regex.push(entry);
  }

  seal(): void {
    for (const list of this.exact.values()) list.sort(bySpecificity);
    for (const list of this.prefix.values()) list.sort(bySpecificity);
    this.regex.sort(bySpecificity);
  }

  lookup(req: MatchRequest, query: () => URLSearchParams): Entry | undefined {
    const { path } = req;
    const exact = this.exact.get(path);
    if (exact) {
      const hit = firstMatching(exact, req, query);
      if (hit) return hit;
    }
    if (this.prefix.size > 0) {
      let candidate = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
      for (;;) {
        const list = this.prefix.get(candidate);
        if (list) {
          const hit = firstMatching(list, req, query);
          if (hit) return hit;
        }
        if (candidate === '/') break;
        const cut = candidate.lastIndexOf('/');
        candidate = cut <= 0 ? '/' : candidate.slice(0, cut);
      }
    }
    for (const entry of this.regex) {
      if (entry.regex!.test(path) && conditionsHold(entry, req, query)) return entry;
    }
    return undefined;
  }
}

/**
 * Matches requests against the rules of one snapshot. With Gateway listeners that have hostnames, the request's host
 * first selects the most specific listener (exact, then the longest wildcard, then the listener without a hostname),
 * and only the rules attached to that listener are considered (Gateway API listener isolation).
 */
export class RouteMatcher {
  readonly #byListener = new Map<string, HostMatcher>();
  readonly #exactListeners = new Set<string>();
  readonly #wildcardListeners: string[] = [];

  constructor(rules: readonly RouteRule[], listenerHosts: readonly string[] = []) {
    const partitions = new Map<string, RouteRule[]>([['', []]]);
    for (const host of listenerHosts) partitions.set(host, []);
    for (const rule of rules) {
      const key = rule.listener ?? '';
      const list = partitions.get(key) ?? [];
      list.push(rule);
      partitions.set(key, list);
    }
    for (const [key, list] of partitions) {
      this.#byListener.set(key, new HostMatcher(list));
      if (key.startsWith('*.')) this.#wildcardListeners.push(key.slice(1));
      else if (key !== '') this.#exactListeners.add(key);
    }
    this.#wildcardListeners.sort((a, b) => b.length - a.length);
  }

  /** The winning rule for a request, or undefined (404). */
  match(req: MatchRequest): MatchResult | undefined {
    if (this.#byListener.size === 1) return this.#byListener.get('')!.match(req);
    return this.#byListener.get(this.#listenerFor(req.host))!.match(req);
  }

  #listenerFor(host: string): string {
    if (this.#exactListeners.has(host)) return host;
    for (const suffix of this.#wildcardListeners) {
      if (host.length > suffix.length && host.endsWith(suffix)) return `*${suffix}`;
    }
    return '';
  }
}

/** The rules of one listener, by hostname tables. */
class HostMatcher {
  readonly #exactHosts = new Map<string, Table>();
  readonly #wildcardHosts: { suffix: string; table: Table }[] = [];
  readonly #anyHost = new Table();

  constructor(rules: readonly RouteRule[]) {
    let order = 0;
    for (const rule of rules) {
      for (const match of rule.matches) {
        const entry = compileEntry(rule, match, order++);
        if (rule.hostnames.length === 0) this.#anyHost.add(entry);
        for (const host of rule.hostnames) this.#tableFor(host).add(entry);
      }
    }
    this.#wildcardHosts.sort((a, b) => b.suffix.length - a.suffix.length);
    for (const t of this.#exactHosts.values()) t.seal();
    for (const w of this.#wildcardHosts) w.table.seal();
    this.#anyHost.seal();
  }

  /** The winning rule for a request, or undefined (404). */
  match(req: MatchRequest): MatchResult | undefined {
    let params: URLSearchParams | undefined;
    const query = () => (params ??= new URLSearchParams(req.query));
    const host = req.host;
    if (this.#exactHosts.size > 0) {
      const table = this.#exactHosts.get(host);
      const hit = table?.lookup(req, query);
      if (hit) return hit;
    }
    for (const w of this.#wildcardHosts) {
      // `*.example.com` matches `a.example.com` and `a.b.example.com`, never `example.com` itself.
      if (host.length > w.suffix.length && host.endsWith(w.suffix)) {
        const hit = w.table.lookup(req, query);
        if (hit) return hit;
      }
    }
    return this.#anyHost.lookup(req, query);
  }

  #tableFor(host: string): Table {
    if (host.startsWith('*.')) {
      const suffix = host.slice(1);
      let w = this.#wildcardHosts.find((x) => x.suffix === suffix);
      if (!w) {
        w = { suffix, table: new Table() };
        this.#wildcardHosts.push(w);
      }
      return w.table;
    }
    let table = this.#exactHosts.get(host);
    if (!table) {
      table = new Table();
      this.#exactHosts.set(host, table);
    }
    return table;
  }
}

/**
 * Most matches have no header or query conditions: one shared empty list (tens of thousands of entries). Not frozen:
 * conditionsHold iterates it per request, and V8 iterates frozen arrays on a slower path.
 */
const NO_CONDITIONS: readonly CompiledValueMatch[] = [];

function compileEntry(rule: RouteRule, match: RouteMatch, order: number): Entry {
  const base = {
    rule,
    match,
    order,
    headers: match.headers?.length
      ? match.headers.map((m) => compileValueMatch({ ...m, name: m.name.toLowerCase() }))
      : NO_CONDITIONS,
    query: match.queryParams?.length ? match.queryParams.map(compileValueMatch) : NO_CONDITIONS,
  };
  return match.path.type === 'RegularExpression' ? { ...base, regex: userRegex(match.path.value) } : base;
}

function compileValueMatch(m: ValueMatch): CompiledValueMatch {
  if (m.type === 'Exact') return { name: m.name, test: (v) => v === m.value };
  const re = userRegex(m.value);
  return { name: m.name, test: (v) => v !== undefined && re.test(v) };
}

/**
 * A user's pattern on the linear-time engine, matching whole values. The compiler refused patterns that do not
 * compile; one that still does not (a snapshot built some other way) matches nothing rather than failing the build.
 */
function userRegex(pattern: string): { test(value: string): boolean } {
  const compiled = compileSafeRegex(pattern);
  if ('error' in compiled) return { test: () => false };
  return { test: (value) => compiled.fullMatch(value) };
}

function firstMatching(list: readonly Entry[], req: MatchRequest, query: () => URLSearchParams): Entry | undefined {
  for (const entry of list) if (conditionsHold(entry, req, query)) return entry;
  return undefined;
}

function conditionsHold(entry: Entry, req: MatchRequest, query: () => URLSearchParams): boolean {
  const { method } = entry.match;
  if (method !== undefined && method !== req.method) return false;
  for (const h of entry.headers) if (!h.test(req.header(h.name))) return false;
  if (entry.query.length > 0) {
    const params = query();
    for (const q of entry.query) if (!q.test(params.get(q.name) ?? undefined)) return false;
  }
  return true;
}

function bySpecificity(a: Entry, b: Entry): number {
  const method = Number(b.match.method !== undefined) - Number(a.match.method !== undefined);
  if (method !== 0) return method;
  if (a.headers.length !== b.headers.length) return b.headers.length - a.headers.length;
  if (a.query.length !== b.query.length) return b.query.length - a.query.length;
  return a.order - b.order;
}

function normalizePrefix(value: string): string {
  return value.length > 1 && value.endsWith('/') ? value.slice(0, -1) : value;
}

function push(map: Map<string, Entry[]>, key: string, entry: Entry): void {
  const list = map.get(key);
  if (list) list.push(entry);
  else map.set(key, [entry]);
}

/** The path prefix a PathPrefix match consumed from the request path (for ReplacePrefixMatch rewrites). */
export function matchedPrefixLength(path: PathMatch, requestPath: string): number {
  if (path.type !== 'PathPrefix') return requestPath.length;
  const prefix = normalizePrefix(path.value);
  return prefix === '/' ? 0 : Math.min(prefix.length, requestPath.length);
}
