/**
 * Merges the documents of many model API versions (already in public paths, OpenAPI 3.1) into one published document,
 * following the rules of kube-apiserver's OpenAPI aggregation (docs/protocols.md):
 *
 *  1. each part's upstream extensions and servers are removed;
 *  2. its components are namespaced by a stable rule — `<api>.<version>.<Name>`, with the namespace in front when two
 *     served APIs share a name — and every `$ref` follows (discriminator mappings, links and callbacks included);
 *  3. operations are claimed path by path in part order (older APIs first): the same method on the same path (paths
 *     equal up to parameter names) from a second API is a conflict reported on both, never an overwrite;
 *  4. operationIds are namespaced the same way and made unique; each API gets one tag, tags are grouped by protocol
 *     in `x-tagGroups`;
 *  5. the gateway's own responses (problem+json 502/503/504, 413 where a body is sent, 400 for an unknown version
 *     pin) are added to every operation; security is told as the client meets it: the gateway's requirement where
 *     the gateway authenticates (it consumes the credentials), otherwise the upstream's own requirement with its
 *     schemes namespaced like components (the gateway forwards the client's credentials), otherwise an explicit
 *     `security: []` (no credentials needed);
 *  6. identical components are de-duplicated until nothing changes, unused ones pruned, everything sorted.
 *
 * Pure and deterministic: equal inputs give byte-identical documents.
 */
import { PROBLEM_JSON_SCHEMA } from '../errors/problem-schema.ts';
import {
  canonicalJson,
  collectRefs,
  isObject,
  pointerEscape,
  pointerUnescape,
  rewriteRefs,
  specFingerprint,
  stripExtensions,
} from './openapi-walk.ts';

type Json = Record<string, unknown>;

/** One API version's document, ready to merge. */
export interface MergePart {
  /** `ModelAPI/<namespace>/<name>`. */
  readonly ref: string;
  readonly namespace: string;
  readonly name: string;
  /** The version the part documents (the primary version for the unversioned paths). */
  readonly version: string;
  /** True for the part under `<prefix>/versions/<v>`; false for the unversioned paths. */
  readonly versioned: boolean;
  readonly tag: {
    readonly name: string;
    readonly description?: string;
    /** The upstream document's own `info` (published as the tag's `x-upstream-info`). */
    readonly upstreamInfo?: Json;
  };
  /** Tag group (the protocol's display name). */
  readonly group: string;
  /** The part's OpenAPI 3.1 document with public paths. Not modified. */
  readonly document: Json;
  /** Hostnames the API answers on (empty: any). */
  readonly hostnames: readonly string[];
  /** For unversioned parts of APIs with several versions: the header that pins a version. */
  readonly versionPin?: { readonly header: string; readonly versions: readonly string[] };
  /** Largest accepted request body, for the 413 response. */
  readonly maxRequestBodyBytes: number;
  /** Set when the documented version is deprecated. */
  readonly deprecation?: { readonly sunset?: string };
  /** Whether the API is rate limited (429 answers, RateLimit headers). */
  readonly rateLimited?: boolean;
  /** Whether requests are validated against this document (400 with violations). */
  readonly validated?: boolean;
  /** Whether answers may come from the response cache (X-Cache, Age). */
  readonly cached?: boolean;
  /** The gateway's security requirement for this API (alternatives), when it requires authentication. */
  readonly security?: readonly Record<string, readonly string[]>[];
  /** The gateway sets the upstream's credentials itself (a version's `requestHeaders.secret`): clients need none. */
  readonly upstreamCredentials?: boolean;
}

/** Gateway-wide document settings. */
export interface MergeOptions {
  readonly title: string;
  readonly description?: string;
  readonly version: string;
  readonly publicURL: string;
  readonly contact?: Json;
  /** The upstream's own `info`, for a document of one API (published as `info.x-upstream-info`). */
  readonly upstreamInfo?: Json;
  /** `components.securitySchemes` of the gateway's authentication providers. */
  readonly securitySchemes?: Json;
  /** Security requirement per API ref, when its API requires authentication. */
  readonly securityFor?: (ref: string) => Json[] | undefined;
}

/** An operation left out because an older API documents the same method and path. */
export interface MergeConflict {
  readonly method: string;
  readonly path: string;
  /** The API whose operation is published. */
  readonly winner: string;
  /** The API whose operation is left out. */
  readonly loser: string;
}

/** A name the merge had to change beyond its stable namespacing rule. */
export interface MergeRename {
  readonly ref: string;
  readonly kind: 'component' | 'operationId';
  readonly from: string;
  readonly to: string;
}

/** What the merge did, for status. */
export interface MergeReport {
  readonly conflicts: readonly MergeConflict[];
  readonly renames: readonly MergeRename[];
}

/** Extensions of modelgate's own that survive the merge. */
const OWN_EXTENSIONS = new Set(['x-schema-source', 'x-sse-event-schema', 'x-model-api', 'x-model-version', 'x-sunset']);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const COMPONENT_SECTIONS = [
  'schemas',
  'responses',
  'parameters',
  'examples',
  'requestBodies',
  'headers',
  'links',
  'callbacks',
  'pathItems',
] as const;
const GATEWAY_PREFIX = 'modelgate.';

/**
 * Decides which part publishes each operation, in part order: the first claim of a method on a path wins; a path
 * equal up to parameter names but spelled differently by another API cannot share the key and loses whole. Cheap (only
 * path keys are read), so the compiler reports conflicts without building the merged document.
 */
export function claimOperations(parts: readonly MergePart[]): {
  /** Per part: "<method> <path>" → the operationId it is published with. */
  accepted: ReadonlyMap<string, string>[];
  conflicts: MergeConflict[];
  /** operationIds that had to change beyond the namespacing rule to stay unique. */
  renames: MergeRename[];
} {
  const conflicts: MergeConflict[] = [];
  const renames: MergeRename[] = [];
  const operationIds = new Set<string>();
  const namesInUse = apiNamesInUse(parts);
  const claimed = new Map<string, string>(); // "<method> <templated path>" → owner ref
  const pathOwner = new Map<string, { ref: string; literal: string }>(); // templated path → first owner
  const accepted = parts.map((part) => {
    const mine = new Map<string, string>();
    const idPrefix = `${qualifiedName(part, namesInUse)}${part.versioned ? `.${part.version}` : ''}`.replace(
      /[^A-Za-z0-9]+/g,
      '_',
    );
    const docPaths = isObject(part.document.paths) ? part.document.paths : {};
    for (const path of Object.keys(docPaths).sort()) {
      const item = docPaths[path];
      if (!isObject(item)) continue;
      const templated = path.replace(/\{[^}]*\}/g, '{}');
      const owner = pathOwner.get(templated);
      if (owner && owner.ref !== part.ref && owner.literal !== path) {
        for (const method of METHODS)
          if (isObject(item[method])) conflicts.push({ method, path, winner: owner.ref, loser: part.ref });
        continue;
      }
      if (!owner) pathOwner.set(templated, { ref: part.ref, literal: path });
      for (const method of METHODS) {
        if (!isObject(item[method])) continue;
        const key = `${method} ${templated}`;
        const previous = claimed.get(key);
        if (previous !== undefined) {
          conflicts.push({ method, path, winner: previous, loser: part.ref });
          continue;
        }
        claimed.set(key, part.ref);
        const op = item[method] as Json;
        const base =
          typeof op.operationId === 'string'
            ? op.operationId
            : `${method}${path.replace(/[^A-Za-z0-9]+/g, '_').replace(/_+$/, '')}`;
        const wanted = `${idPrefix}_${base}`;
        let id = wanted;
        for (let n = 2; operationIds.has(id); n++) id = `${wanted}_${n}`;
        if (id !== wanted) renames.push({ ref: part.ref, kind: 'operationId', from: wanted, to: id });
        operationIds.add(id);
        mine.set(`${method} ${path}`, id);
      }
    }
    return mine;
  });
  return { accepted, conflicts, renames };
}

function apiNamesInUse(parts: readonly MergePart[]): Map<string, Set<string>> {
  const namesInUse = new Map<string, Set<string>>(); // api name → namespaces
  for (const p of parts) namesInUse.set(p.name, (namesInUse.get(p.name) ?? new Set()).add(p.namespace));
  return namesInUse;
}

/** The API's name in component names and operationIds: with its namespace when another namespace uses the name. */
function qualifiedName(part: MergePart, namesInUse: ReadonlyMap<string, ReadonlySet<string>>): string {
  return (namesInUse.get(part.name)?.size ?? 0) > 1 ? `${part.namespace}.${part.name}` : part.name;
}

/** Merges parts into one document. */
export function mergeDocuments(
  parts: readonly MergePart[],
  options: MergeOptions,
): { document: Json; report: MergeReport } {
  const { accepted, conflicts, renames } = claimOperations(parts);
  const namesInUse = apiNamesInUse(parts);

  const components: Record<string, Json> = Object.fromEntries(COMPONENT_SECTIONS.map((s) => [s, {}]));
  const securitySchemes: Json = { ...(options.securitySchemes ?? {}) };
  const paths: Record<string, Json> = {};
  const tags = new Map<string, { tag: Json; group: string }>();

  for (const [partIndex, part] of parts.entries()) {
    const mine = accepted[partIndex]!;
    const prefix = `${qualifiedName(part, namesInUse)}.${part.version}.`;
    const doc = structuredClone(part.document);
    stripExtensions(doc, OWN_EXTENSIONS);

    // 2. namespace components and rewrite references.
    const renamed = new Map<string, string>(); // old "#/components/<s>/<n>" → new
    const docComponents = isObject(doc.components) ? doc.components : {};
    for (const section of COMPONENT_SECTIONS) {
      const entries = isObject(docComponents[section]) ? (docComponents[section] as Json) : {};
      for (const name of Object.keys(entries)) {
        renamed.set(`#/components/${section}/${pointerEscape(name)}`, `${prefix}${sanitize(name)}`);
      }
    }
    const newRef = (ref: string): string | undefined => {
      const [section] = ref.split('/').slice(2);
      const to = renamed.get(ref);
      return to !== undefined && section !== undefined ? `#/components/${section}/${pointerEscape(to)}` : undefined;
    };
    rewriteRefs(doc, newRef);
    const upstreamSecurity = upstreamSecurityOf(doc, prefix, securitySchemes);
    for (const section of COMPONENT_SECTIONS) {
      const entries = isObject(docComponents[section]) ? (docComponents[section] as Json) : {};
      for (const [name, value] of Object.entries(entries)) {
        const target = renamed.get(`#/components/${section}/${pointerEscape(name)}`)!;
        const existing = components[section]![target];
        if (existing === undefined || canonicalJson(existing) === canonicalJson(value)) {
          components[section]![target] = value as Json;
          continue;
        }
        // Same stable name, different content (only possible with odd names): keep both, say so.
        let n = 2;
        while (components[section]![`${target}_${n}`] !== undefined) n++;
        const alternative = `${target}_${n}`;
        components[section]![alternative] = value as Json;
        renames.push({ ref: part.ref, kind: 'component', from: `${section}/${name}`, to: `${section}/${alternative}` });
        const from = `#/components/${section}/${pointerEscape(target)}`;
        const to = `#/components/${section}/${pointerEscape(alternative)}`;
        rewriteRefs(doc, (ref) => (ref === from ? to : undefined));
      }
    }

    // 3–5. claim operations.
    const docPaths = isObject(doc.paths) ? doc.paths : {};
    const opIdRenames = new Map<string, string>();
    for (const [path, rawItem] of Object.entries(docPaths).sort(([a], [b]) => a.localeCompare(b))) {
      if (!isObject(rawItem)) continue;
      const wins = METHODS.filter((m) => mine.has(`${m} ${path}`));
      if (wins.length === 0) continue;
      const item: Json = (paths[path] as Json | undefined) ?? {};
      for (const [key, value] of Object.entries(rawItem)) {
        if ((METHODS as readonly string[]).includes(key)) continue;
        if (key === 'servers') continue;
        if (item[key] === undefined) item[key] = value;
      }
      for (const method of wins) {
        const op = rawItem[method] as Json;
        const id = mine.get(`${method} ${path}`)!;
        const prepared = prepareOperation(op, id, part, options, upstreamSecurity);
        prepared.summary = summaryOf(op, method, path);
        const original = op.operationId;
        if (typeof original === 'string') opIdRenames.set(original, id);
        item[method] = prepared;
      }
      if (part.hostnames.length > 0) item.servers = hostServers(part.hostnames, options.publicURL);
      paths[path] = item;
    }
    // Links may name operations by id.
    renameLinkOperationIds(docPaths, opIdRenames);

    if (!tags.has(part.tag.name)) {
      tags.set(part.tag.name, {
        tag: {
          name: part.tag.name,
          ...(part.tag.description ? { description: part.tag.description } : {}),
          ...(part.tag.upstreamInfo ? { 'x-upstream-info': part.tag.upstreamInfo } : {}),
        },
        group: part.group,
      });
    }
  }

  // Always published (every gateway answer may be one), which also keeps a document without paths valid 3.1.
  addGatewayComponents(components);
  const document: Json = {
    openapi: '3.1.0',
    info: {
      title: options.title,
      version: options.version,
      ...(options.description ? { description: options.description } : {}),
      ...(options.contact ? { contact: options.contact } : {}),
      ...(options.upstreamInfo ? { 'x-upstream-info': options.upstreamInfo } : {}),
    },
    servers: [{ url: options.publicURL }],
    tags: [...tags.values()].map((t) => t.tag).sort((a, b) => String(a.name).localeCompare(String(b.name))),
    'x-tagGroups': tagGroups(tags),
    paths,
    components: { ...components, ...(Object.keys(securitySchemes).length > 0 ? { securitySchemes } : {}) },
  };
  dedupeComponents(document);
  pruneComponents(document);
  return { document: sortDocument(document), report: { conflicts, renames } };
}

/**
 * An operation's summary; for one without (TorchServe's), the description's first sentence, else its operationId,
 * else method and path: Redocly's `recommended` rules count a missing summary as an error, and Swagger UI shows it.
 */
function summaryOf(op: Json, method: string, path: string): string {
  if (typeof op.summary === 'string' && op.summary.trim() !== '') return op.summary;
  const described = typeof op.description === 'string' ? firstSentence(op.description) : '';
  if (described) return described;
  return typeof op.operationId === 'string' ? op.operationId : `${method.toUpperCase()} ${path}`;
}

function firstSentence(text: string): string {
  const line = text.trim().split('\n')[0]!.trim();
  const end = line.search(/[.!?](\s|$)/);
  const sentence = end === -1 ? line : line.slice(0, end);
  return sentence.length > 120 ? `${sentence.slice(0, 117)}...` : sentence;
}

/** Component names allow `[A-Za-z0-9._-]` only. */
function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * The upstream's own security, for operations the gateway does not authenticate: its schemes are added to
 * `schemes` under namespaced names (`<api>.<version>.<name>`), and the returned function gives an operation's
 * requirement in those names (the operation's own, else the document's, else none). An alternative naming a scheme
 * the upstream does not define is left out: a published document defines every scheme it references.
 */
function upstreamSecurityOf(doc: Json, prefix: string, schemes: Json): (op: Json) => Json[] {
  const defined =
    isObject(doc.components) && isObject(doc.components.securitySchemes) ? doc.components.securitySchemes : {};
  const names = new Map<string, string>();
  for (const [name, scheme] of Object.entries(defined)) {
    if (!isObject(scheme)) continue;
    const published = `${prefix}${sanitize(name)}`;
    names.set(name, published);
    schemes[published] = scheme;
  }
  return (op) => {
    const own = Array.isArray(op.security) ? op.security : Array.isArray(doc.security) ? doc.security : [];
    const out: Json[] = [];
    for (const requirement of own) {
      if (!isObject(requirement)) continue;
      const keys = Object.keys(requirement);
      if (!keys.every((k) => names.has(k))) continue;
      out.push(Object.fromEntries(keys.map((k) => [names.get(k)!, requirement[k]])));
    }
    return out;
  };
}

function prepareOperation(
  op: Json,
  operationId: string,
  part: MergePart,
  options: MergeOptions,
  upstreamSecurity: (op: Json) => Json[],
): Json {
  const out: Json = { ...op };
  out.tags = [part.tag.name];
  out.operationId = operationId;
  delete out.servers;
  const security = part.security ?? options.securityFor?.(part.ref);
  // The gateway's requirement where it authenticates; none where it brings the upstream's credentials itself;
  // otherwise the upstream's own (the client's credentials are forwarded to it).
  out.security = security ?? (part.upstreamCredentials ? [] : upstreamSecurity(op));
  if (part.versionPin) {
    const params = Array.isArray(out.parameters) ? [...(out.parameters as Json[])] : [];
    params.push({
      name: part.versionPin.header,
      in: 'header',
      required: false,
      description: 'Pins the request to one version instead of the weighted split.',
      schema: { type: 'string', enum: [...part.versionPin.versions] },
    });
    out.parameters = params;
  }
  const responses: Json = isObject(op.responses) ? { ...op.responses } : {};
  const add = (status: string, name: string) => {
    const existing = responses[status];
    if (existing === undefined) {
      responses[status] = { $ref: `#/components/responses/${GATEWAY_PREFIX}${name}` };
    } else if (isObject(existing) && existing.$ref === undefined) {
      // The upstream uses the same status: the gateway's problem+json is one more possible body.
      const content = isObject(existing.content) ? { ...existing.content } : {};
      if (!content['application/problem+json'])
        content['application/problem+json'] = { schema: { $ref: `#/components/schemas/${GATEWAY_PREFIX}Problem` } };
      responses[status] = { ...existing, content };
    }
  };
  if (op.requestBody !== undefined && part.maxRequestBodyBytes > 0) add('413', 'PayloadTooLarge');
  if (security) {
    add('401', 'Unauthenticated');
    add('403', 'Forbidden');
  }
  if (part.rateLimited) add('429', 'TooManyRequests');
  if (part.validated && op.requestBody !== undefined) add('400', 'ValidationFailed');
  else if (part.versionPin || part.validated) add('400', 'BadRequest');
  const successHeaders: Record<string, Json> = {};
  if (part.rateLimited) {
    successHeaders.RateLimit = { $ref: `#/components/headers/${GATEWAY_PREFIX}RateLimit` };
    successHeaders['RateLimit-Policy'] = { $ref: `#/components/headers/${GATEWAY_PREFIX}RateLimitPolicy` };
  }
  if (part.cached) {
    successHeaders['X-Cache'] = { $ref: `#/components/headers/${GATEWAY_PREFIX}XCache` };
    successHeaders.Age = { $ref: `#/components/headers/${GATEWAY_PREFIX}Age` };
  }
  if (Object.keys(successHeaders).length > 0) {
    for (const [status, response] of Object.entries(responses)) {
      if (!status.startsWith('2') || !isObject(response) || response.$ref !== undefined) continue;
      const own = isObject(response.headers) ? response.headers : {};
      responses[status] = { ...response, headers: { ...successHeaders, ...own } };
    }
  }
  add('502', 'BadGateway');
  add('503', 'ServiceUnavailable');
  add('504', 'GatewayTimeout');
  out.responses = responses;
  if (part.deprecation) {
    out.deprecated = true;
    if (part.deprecation.sunset) out['x-sunset'] = part.deprecation.sunset;
  }
  out['x-model-api'] = part.ref;
  if (part.versioned || !part.versionPin) out['x-model-version'] = part.version;
  return out;
}

function addGatewayComponents(components: Record<string, Json>): void {
  components.schemas![`${GATEWAY_PREFIX}Problem`] = PROBLEM_JSON_SCHEMA;
  const problem = (description: string) => ({
    description,
    content: { 'application/problem+json': { schema: { $ref: `#/components/schemas/${GATEWAY_PREFIX}Problem` } } },
  });
  const responses = components.responses!;
  responses[`${GATEWAY_PREFIX}Unauthenticated`] = problem('No valid credentials were sent (see WWW-Authenticate).');
  responses[`${GATEWAY_PREFIX}Forbidden`] = problem('The credentials are valid but may not call this model API.');
  responses[`${GATEWAY_PREFIX}TooManyRequests`] = {
    ...problem('The rate limit is spent; retry after `Retry-After` seconds.'),
    headers: {
      'Retry-After': { description: 'Seconds until a request is possible again.', schema: { type: 'integer' } },
      RateLimit: {
        description: 'Remaining budget and reset (IETF RateLimit header fields).',
        schema: { type: 'string' },
      },
      'RateLimit-Policy': { description: 'The quota and its window.', schema: { type: 'string' } },
    },
  };
  responses[`${GATEWAY_PREFIX}BadRequest`] = problem('The gateway refused the request (e.g. an unknown version pin).');
  responses[`${GATEWAY_PREFIX}ValidationFailed`] = problem(
    'The request breaks this schema (checked by the gateway before the model sees it): `violations` lists each problem with its JSON pointer.',
  );
  const headers = components.headers!;
  headers[`${GATEWAY_PREFIX}RateLimit`] = {
    description: 'Remaining budget and seconds to reset, per policy (IETF RateLimit header fields).',
    schema: { type: 'string' },
  };
  headers[`${GATEWAY_PREFIX}RateLimitPolicy`] = {
    description: 'The quota (`q`) and its window in seconds (`w`), per policy.',
    schema: { type: 'string' },
  };
  headers[`${GATEWAY_PREFIX}XCache`] = {
    description: 'HIT when the gateway answered from its response cache, MISS when the model did.',
    schema: { type: 'string', enum: ['HIT', 'MISS'] },
  };
  headers[`${GATEWAY_PREFIX}Age`] = {
    description: 'Seconds since a cached answer was stored (on HIT).',
    schema: { type: 'integer', minimum: 0 },
  };
  responses[`${GATEWAY_PREFIX}PayloadTooLarge`] = problem('The request body is larger than this API accepts.');
  responses[`${GATEWAY_PREFIX}BadGateway`] = problem('The model server could not be reached or answered invalidly.');
  responses[`${GATEWAY_PREFIX}ServiceUnavailable`] = problem('No healthy model server, or the gateway is draining.');
  responses[`${GATEWAY_PREFIX}GatewayTimeout`] = problem('The model server did not answer in time.');
}

/** Servers of an API bound to hostnames: the public URL's scheme and port with each hostname. */
function hostServers(hostnames: readonly string[], publicURL: string): Json[] {
  const url = new URL(publicURL);
  const port = url.port ? `:${url.port}` : '';
  return hostnames.map((h) =>
    h.startsWith('*.')
      ? {
          url: `${url.protocol}//{subdomain}.${h.slice(2)}${port}`,
          variables: { subdomain: { default: 'www', description: `Any subdomain of ${h.slice(2)}` } },
        }
      : { url: `${url.protocol}//${h}${port}` },
  );
}

function renameLinkOperationIds(paths: Json, renames: Map<string, string>): void {
  if (renames.size === 0) return;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (isObject(node)) {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'links' && isObject(value)) {
          for (const link of Object.values(value)) {
            if (isObject(link) && typeof link.operationId === 'string' && renames.has(link.operationId))
              link.operationId = renames.get(link.operationId);
          }
        } else if (key !== 'example' && key !== 'examples') visit(value);
      }
    }
  };
  visit(paths);
}

function tagGroups(tags: Map<string, { tag: Json; group: string }>): Json[] {
  const groups = new Map<string, string[]>();
  for (const [name, { group }] of tags) groups.set(group, [...(groups.get(group) ?? []), name]);
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, list]) => ({ name, tags: list.sort() }));
}

/** Replaces components equal (apart from extensions) to an earlier one by a reference to it, until nothing changes. */
function dedupeComponents(document: Json): void {
  const components = document.components as Record<string, Json>;
  for (;;) {
    const replace = new Map<string, string>();
    for (const section of COMPONENT_SECTIONS) {
      const entries = components[section];
      if (!entries) continue;
      const seen = new Map<string, string>();
      for (const name of Object.keys(entries).sort()) {
        const key = specFingerprint(entries[name]);
        const first = seen.get(key);
        if (first === undefined) seen.set(key, name);
        else
          replace.set(
            `#/components/${section}/${pointerEscape(name)}`,
            `#/components/${section}/${pointerEscape(first)}`,
          );
      }
    }
    if (replace.size === 0) return;
    for (const from of replace.keys()) {
      const [, , section, name] = from.split('/');
      delete components[section!]![pointerUnescape(name!)];
    }
    rewriteRefs(document, (ref) => replace.get(ref));
  }
}

/**
 * Drops components nothing in `paths` reaches (transitively), the gateway's own included. A document without any
 * operation keeps the gateway's Problem schema: OpenAPI 3.1 wants paths, webhooks or components, and the error format
 * is what such a document can still say.
 */
function pruneComponents(document: Json): void {
  const components = document.components as Record<string, Json>;
  const reachable = new Set<string>();
  const queue = collectRefs(document.paths);
  if (Object.keys(isObject(document.paths) ? document.paths : {}).length === 0)
    queue.push(`#/components/schemas/${GATEWAY_PREFIX}Problem`);
  const security = collectSecurityNames(document.paths);
  while (queue.length > 0) {
    const ref = queue.pop()!;
    if (reachable.has(ref) || !ref.startsWith('#/components/')) continue;
    reachable.add(ref);
    const [, , section, name] = ref.split('/');
    const target = components[section!]?.[pointerUnescape(name ?? '')];
    if (target !== undefined) queue.push(...collectRefs(target));
  }
  for (const section of COMPONENT_SECTIONS) {
    const entries = components[section];
    if (!entries) continue;
    for (const name of Object.keys(entries)) {
      if (!reachable.has(`#/components/${section}/${pointerEscape(name)}`)) delete entries[name];
    }
    if (Object.keys(entries).length === 0) delete components[section];
  }
  if (components.securitySchemes) {
    for (const name of Object.keys(components.securitySchemes))
      if (!security.has(name)) delete components.securitySchemes[name];
    if (Object.keys(components.securitySchemes).length === 0) delete components.securitySchemes;
  }
  if (Object.keys(components).length === 0) delete document.components;
}

function collectSecurityNames(paths: unknown): Set<string> {
  const names = new Set<string>();
  for (const item of Object.values(isObject(paths) ? paths : {})) {
    for (const method of METHODS) {
      const op = isObject(item) ? item[method] : undefined;
      if (!isObject(op) || !Array.isArray(op.security)) continue;
      for (const requirement of op.security)
        if (isObject(requirement)) for (const n of Object.keys(requirement)) names.add(n);
    }
  }
  return names;
}

/** Sorted paths and component names; operation and schema contents keep their own (meaningful) order. */
function sortDocument(document: Json): Json {
  const paths = document.paths as Json;
  document.paths = Object.fromEntries(
    Object.keys(paths)
      .sort()
      .map((k) => [k, paths[k]]),
  );
  if (isObject(document.components)) {
    const components = document.components;
    document.components = Object.fromEntries(
      Object.keys(components)
        .sort()
        .map((section) => [section, sortDeepKeysOnce(components[section] as Json)]),
    );
  }
  return document;
}

function sortDeepKeysOnce(map: Json): Json {
  return Object.fromEntries(
    Object.keys(map)
      .sort()
      .map((k) => [k, map[k]]),
  );
}
