/**
 * Rebases an upstream's own OpenAPI document on the gateway: every upstream path is mapped to the public path that
 * reaches it through the gateway (the inverse of the protocol's rewrite: `publicPath` of its definition in
 * src/protocols/), path parameters the
 * public path fixes (the model name in `/v2/models/{model_name}/infer`) are removed, and paths the gateway does not
 * route are dropped and reported. Upstream `servers` (".", provider URLs, per path and per operation) are removed: the
 * merge sets the gateway's. Pure.
 */
import type { PathMapping, PublicPath } from '../../protocols/protocol.ts';
import { PROTOCOLS } from '../../protocols/table.ts';

export type { PathMapping, PublicPath };

type Json = Record<string, unknown>;

/** The public path of one upstream path, or undefined when the gateway does not route it. */
export function publicPathOf(mapping: PathMapping, upstreamPath: string): PublicPath | undefined {
  return PROTOCOLS[mapping.protocol].publicPath(mapping, upstreamPath);
}

/** The result of rebasing. */
export interface RebaseResult {
  readonly document: Json;
  /** Upstream paths left out because the gateway does not route them. */
  readonly dropped: readonly string[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Rebases a normalised (3.1) document; the input is not modified. */
export function rebaseDocument(document: Json, mapping: PathMapping): RebaseResult {
  return rebaseBy(document, (upstreamPath) => publicPathOf(mapping, upstreamPath));
}

/** One HTTPRoute match that sends traffic to a documented Service, with the path rewrite it applies. */
export interface RouteMatchMapping {
  readonly type: 'Exact' | 'PathPrefix';
  readonly value: string;
  readonly rewrite?: { readonly type: 'ReplacePrefixMatch' | 'ReplaceFullPath'; readonly value: string };
}

/**
 * The public path of an upstream path behind HTTPRoute matches: the inverse of the route's rewrite (a prefix match
 * without a rewrite keeps the path, a ReplacePrefixMatch swaps the replacement back for the matched prefix). The first
 * match that can produce the path wins; none → the route does not expose it.
 */
export function routePublicPath(matches: readonly RouteMatchMapping[], upstreamPath: string): PublicPath | undefined {
  const under = (path: string, prefix: string) =>
    prefix === '/' || path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
  for (const m of matches) {
    if (m.type === 'Exact') {
      const target = m.rewrite?.type === 'ReplaceFullPath' ? m.rewrite.value : m.value;
      if (upstreamPath === target) return { path: m.value, fixedParams: [] };
      continue;
    }
    if (!m.rewrite) {
      if (under(upstreamPath, m.value)) return { path: upstreamPath, fixedParams: [] };
      continue;
    }
    if (m.rewrite.type === 'ReplacePrefixMatch' && under(upstreamPath, m.rewrite.value)) {
      const rest =
        m.rewrite.value === '/' ? upstreamPath : upstreamPath.slice(m.rewrite.value.replace(/\/$/, '').length);
      const base = m.value.replace(/\/$/, '');
      return { path: `${base}${rest.startsWith('/') || rest === '' ? rest : `/${rest}`}` || '/', fixedParams: [] };
    }
  }
  return undefined;
}

/**
 * Rebases a normalised document with any path mapping; the input is not modified. Only the path items and operations
 * change, so only they are copied (shallowly); everything else — the components above all, most of a large document —
 * is shared with the input. Documents are never modified after they are built (whoever edits one copies it first),
 * and a deep copy here cost as much as everything else the compiler does with a 10 MB document.
 */
export function rebaseBy(document: Json, publicPath: (upstreamPath: string) => PublicPath | undefined): RebaseResult {
  const doc: Json = { ...document };
  const serverBase = serverPathOf(doc.servers);
  delete doc.servers;
  const paths: Json = {};
  const dropped: string[] = [];
  for (const [upstreamPath, item] of Object.entries((doc.paths as Json | undefined) ?? {})) {
    const mapped = publicPath(`${serverBase}${upstreamPath}`);
    if (!mapped) {
      dropped.push(upstreamPath);
      continue;
    }
    const pathItem: Json = { ...(item as Json) };
    delete pathItem.servers;
    removeParams(pathItem, mapped.fixedParams, doc);
    for (const method of METHODS) {
      const original = pathItem[method] as Json | undefined;
      if (!original) continue;
      const op: Json = { ...original };
      delete op.servers;
      removeParams(op, mapped.fixedParams, doc);
      pathItem[method] = op;
    }
    paths[mapped.path] = pathItem;
  }
  doc.paths = paths;
  return { document: doc, dropped };
}

/** The path part of the first server URL ('' for none, '.', '/', or a bare origin). */
function serverPathOf(servers: unknown): string {
  const url = Array.isArray(servers) ? (servers[0] as { url?: unknown } | undefined)?.url : undefined;
  if (typeof url !== 'string' || url === '.' || url === '/' || url === '') return '';
  try {
    const path = new URL(url, 'http://upstream.invalid').pathname.replace(/\/+$/, '');
    return path === '/' ? '' : path;
  } catch {
    return '';
  }
}

function removeParams(holder: Json, names: readonly string[], doc: Json): void {
  if (names.length === 0 || !Array.isArray(holder.parameters)) return;
  holder.parameters = (holder.parameters as Json[]).filter((p) => {
    const resolved = resolveParameter(p, doc);
    return !(resolved?.in === 'path' && names.includes(resolved.name as string));
  });
}

function resolveParameter(p: Json, doc: Json): Json | undefined {
  const ref = p.$ref;
  if (typeof ref !== 'string') return p;
  const name = /^#\/components\/parameters\/(.+)$/.exec(ref)?.[1];
  return name ? (((doc.components as Json | undefined)?.parameters as Json | undefined)?.[name] as Json) : undefined;
}
