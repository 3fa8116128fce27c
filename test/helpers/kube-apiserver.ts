/**
 * A Kubernetes API server simulator for tests, spoken to by the real `@kubernetes/client-node` over HTTP on loopback.
 *
 * What it does, following the real semantics:
 * - discovery (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}`) for the built-in kinds below and
 *   every CRD it was given;
 * - list (label selectors: `k=v`, `k!=v`, `k`, `!k`; field selectors `metadata.name`, `metadata.namespace`) with a
 *   collection resourceVersion; watch from a resourceVersion with the events since then, `BOOKMARK`s when asked for
 *   (`allowWatchBookmarks`), and `410 Gone` (an ERROR event with `Expired`) for a version older than the retained
 *   history (`compact()`);
 * - create / get / update (optimistic concurrency: 409 Conflict on a stale `metadata.resourceVersion`) / delete;
 *   patches: merge (`application/merge-patch+json`), strategic merge (treated as a merge patch), JSON patch
 *   (`application/json-patch+json`: add, remove, replace, test) and server-side apply (`application/apply-patch+yaml`,
 *   treated as a merge patch that creates when absent);
 * - the status subresource of CRDs that declare it (the main resource ignores status writes, `/status` changes only
 *   status), `metadata.generation` counted on spec changes;
 * - validation of custom resources against the CRDs' `openAPIV3Schema` (422 Invalid), so a CRD bug fails tests;
 * - faults: `restart()` (every connection dropped, same port), `dropWatches()`, `compact()`.
 *
 * - authentication by bearer token (`kubeconfig(namespace, user)`: the gateway's ServiceAccount by default, `admin`
 *   for system:masters; anything else is 401) and RBAC authorization (test/helpers/rbac.ts) against the Roles,
 *   ClusterRoles and bindings rendered from deploy/ (or given), answering 403 Forbidden with the real message; every
 *   decision is recorded (`authorizations`) so a test can tell which rules were needed. Objects put through the
 *   methods below (`put`, `delete`) are written as an administrator would, without authorization.
 *
 * What it does not do: admission webhooks, CEL
 * validation rules, defaulting and pruning of unknown fields, real strategic-merge semantics (lists are replaced),
 * field ownership of server-side apply, pagination (`limit`/`continue`), protobuf, watch of a single object by name
 * in the path, and garbage collection of owned objects.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { DEPLOY, renderKustomization } from './kustomize.ts';
import {
  type Decision,
  forbiddenMessage,
  RbacAuthorizer,
  type RequestAttributes,
  serviceAccountUser,
  type UserInfo,
} from './rbac.ts';

type Json = Record<string, unknown>;

/** One kind the simulator serves. */
export interface SimulatedResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly statusSubresource?: boolean;
  readonly validate?: ValidateFunction;
}

const BUILT_IN: SimulatedResource[] = [
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
];

interface WatchEvent {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly resource: SimulatedResource;
  readonly object: Json;
}

interface Watcher {
  readonly resource: SimulatedResource;
  readonly namespace: string | undefined;
  readonly matches: (o: Json) => boolean;
  readonly res: ServerResponse;
}

/** The gateway's ServiceAccount, as deploy/ creates and binds it. */
export const GATEWAY_USER = serviceAccountUser('modelgate-system', 'modelgate');
/** An administrator (group system:masters), for tests that act as a cluster user rather than the gateway. */
export const ADMIN_USER: UserInfo = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };

const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

/** The RBAC objects of a kustomization (deploy/ by default, or an overlay directory). */
export function rbacFrom(dir: string = DEPLOY): Record<string, unknown>[] {
  return renderKustomization(dir).filter((o) => RBAC_KINDS.has(String(o.kind)));
}

/** One authorization decision, as recorded. */
export interface Authorization {
  readonly user: string;
  readonly request: RequestAttributes;
  readonly decision: Decision;
}

/** Settings of the simulator. */
export interface KubeApiServerOptions {
  /** Roles, ClusterRoles and bindings to enforce (default: those rendered from deploy/). */
  readonly rbac?: readonly Record<string, unknown>[];
}

/** A running simulator. */
export class KubeApiServer {
  readonly resources: SimulatedResource[] = [...BUILT_IN];
  /** Every request, as `METHOD path?query` (tests assert on what the gateway asked for). */
  readonly requests: string[] = [];
  #server: Server;
  #port = 0;
  #rv = 1;
  readonly #objects = new Map<string, Json>();
  #history: WatchEvent[] = [];
  /** Events at or below this version are no longer retained: watching from before it answers 410. */
  #compactedAt = 0;
  readonly #watchers = new Set<Watcher>();
  readonly #sockets = new Set<Socket>();
  #bookmarkTimer: NodeJS.Timeout | undefined;
  #uid = 0;

  readonly bookmarkMs: number;
  readonly #authorizer: RbacAuthorizer;
  readonly #users = new Map<string, UserInfo>();
  /** Every authorization decision (denials included), in order. */
  readonly authorizations: Authorization[] = [];

  constructor(crdFiles: readonly string[], bookmarkMs = 500, options: KubeApiServerOptions = {}) {
    this.bookmarkMs = bookmarkMs;
    this.#authorizer = new RbacAuthorizer(options.rbac ?? rbacFrom());
    const ajv = new Ajv({ strict: false, allErrors: true });
    (addFormats as unknown as (a: Ajv) => void)(ajv);
    for (const k of [
      'x-kubernetes-int-or-string',
      'x-kubernetes-preserve-unknown-fields',
      'x-kubernetes-validations',
      'x-kubernetes-list-type',
      'x-kubernetes-list-map-keys',
      'x-kubernetes-map-type',
      'x-kubernetes-embedded-resource',
    ])
      ajv.addKeyword(k);
    for (const file of crdFiles) {
      for (const crd of parseAll(readFileSync(file, 'utf8'))) {
        if (crd.kind !== 'CustomResourceDefinition') continue;
        const spec = crd.spec as {
          group: string;
          names: { plural: string; kind: string };
          scope: string;
          versions: Json[];
        };
        for (const v of spec.versions) {
          if (v.served === false) continue;
          const schema = ((v.schema as Json | undefined)?.openAPIV3Schema ?? {}) as Json;
          this.resources.push({
            group: spec.group,
            version: String(v.name),
            plural: spec.names.plural,
            kind: spec.names.kind,
            namespaced: spec.scope === 'Namespaced',
            statusSubresource: (v.subresources as Json | undefined)?.status !== undefined,
            validate: ajv.compile(intOrString(schema)),
          });
        }
      }
    }
    this.#server = this.#createServer();
  }

  /** Listens on 127.0.0.1 (a free port the first time, the same one after a restart). */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(this.#port, '127.0.0.1', () => resolve()));
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#bookmarkTimer = setInterval(() => this.#bookmarks(), this.bookmarkMs);
    this.#bookmarkTimer.unref();
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Requests the API server refused for lack of permission, as the 403 message said. */
  get denied(): string[] {
    return this.authorizations
      .filter((a) => !a.decision.allowed)
      .map((a) => forbiddenMessage({ name: a.user, groups: [] }, a.request));
  }

  /** A kubeconfig (YAML) that points the client here, authenticated as `user` (the gateway's ServiceAccount). */
  kubeconfig(namespace = 'default', user: UserInfo = GATEWAY_USER): string {
    const token = `sim-${Buffer.from(user.name).toString('base64url')}`;
    this.#users.set(token, user);
    return `apiVersion: v1
kind: Config
clusters: [{name: sim, cluster: {server: "${this.url}", insecure-skip-tls-verify: true}}]
users: [{name: sim, user: {token: ${token}}}]
contexts: [{name: sim, context: {cluster: sim, user: sim, namespace: ${namespace}}}]
current-context: sim
`;
  }

  /** Stops: every connection is dropped. */
  async stop(): Promise<void> {
    if (this.#bookmarkTimer) clearInterval(this.#bookmarkTimer);
    for (const w of this.#watchers) w.res.destroy();
    this.#watchers.clear();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Simulates an API server restart: everything dropped, back on the same port after `downMs`. */
  async restart(downMs = 300): Promise<void> {
    await this.stop();
    await new Promise((r) => setTimeout(r, downMs));
    this.#server = this.#createServer();
    await this.start();
  }

  /** Ends every watch (as a load balancer or an apiserver timeout would). */
  dropWatches(): void {
    for (const w of this.#watchers) w.res.end();
    this.#watchers.clear();
  }

  /** Forgets the event history: watches from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.#compactedAt = this.#rv;
    this.#history = [];
  }

  /** Creates or replaces an object directly (as another client would). */
  put(object: Json): Json {
    const resource = this.#resourceOf(object);
    const meta = object.metadata as Json;
    const key = this.#key(resource, meta.namespace as string | undefined, meta.name as string);
    const existing = this.#objects.get(key);
    if (!existing) return this.#create(resource, object);
    // As an update of the main resource would: a status subresource keeps its status (unless one is given).
    const next: Json = { ...object, metadata: { ...meta, resourceVersion: undefined } };
    if (resource.statusSubresource && next.status === undefined && existing.status !== undefined)
      next.status = existing.status;
    return this.#store(resource, key, next, existing, 'MODIFIED');
  }

  /** Deletes an object directly. */
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    const resource = this.resources.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind)!;
    const key = this.#key(resource, namespace, name);
    const existing = this.#objects.get(key);
    if (existing) this.#remove(resource, key, existing);
  }

  /** Reads an object directly. */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Json | undefined {
    const resource = this.resources.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind)!;
    return this.#objects.get(this.#key(resource, namespace, name));
  }

  /** Every object of a kind. */
  list(apiVersion: string, kind: string): Json[] {
    const resource = this.resources.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind)!;
    const prefix = `${resource.group}/${resource.plural}/`;
    return [...this.#objects].filter(([k]) => k.startsWith(prefix)).map(([, o]) => o);
  }

  #createServer(): Server {
    const server = createServer((req, res) => {
      this.requests.push(`${req.method} ${req.url}`);
      this.#handle(req, res).catch((err: Error) => send(res, 500, status(500, 'InternalError', err.message)));
    });
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    return server;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname;
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    const user = token === undefined ? undefined : this.#users.get(token);
    if (!user) return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    const allowed = (request: RequestAttributes): boolean => {
      const decision = this.#authorizer.authorize(user, request);
      this.authorizations.push({ user: user.name, request, decision });
      if (decision.allowed) return true;
      const denied = status(403, 'Forbidden', forbiddenMessage(user, request));
      if (process.env.DEBUG_RBAC) process.stderr.write(`DENIED ${denied.message}\n`);
      if (!('path' in request))
        denied.details = {
          ...(request.name ? { name: request.name } : {}),
          group: request.group,
          kind: request.resource,
        };
      send(res, 403, denied);
      return false;
    };
    const discovery = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (path === '/version' || path === '/api' || path === '/apis' || discovery)
      if (!allowed({ verb: String(req.method).toLowerCase(), path })) return;
    if (path === '/version') return send(res, 200, { major: '1', minor: '33', gitVersion: 'v1.33.0-modelgate-sim' });
    if (path === '/api')
      return send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (path === '/apis') return send(res, 200, this.#groups());
    if (discovery) return this.#resourceList(res, discovery[2] ?? '', discovery[1] ?? discovery[3]!);
    const m =
      /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/(status))?$/.exec(
        path,
      );
    if (!m) return send(res, 404, status(404, 'NotFound', `the server could not find the requested resource ${path}`));
    const group = m[2] ?? '';
    const version = m[1] ?? m[3]!;
    let namespace = m[4];
    let plural = m[5]!;
    let name = m[6];
    // /api/v1/namespaces/{name} is the namespace itself, not a collection inside it.
    if (namespace !== undefined && group === '' && plural !== undefined && !this.#find(group, version, plural)) {
      [plural, name, namespace] = ['namespaces', namespace, undefined];
    }
    const resource = this.#find(group, version, plural);
    if (!resource)
      return send(res, 404, status(404, 'NotFound', `the server could not find the requested resource ${path}`));
    const subresource = m[7];
    const watching = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const verb =
      name === undefined
        ? ({ GET: watching ? 'watch' : 'list', POST: 'create', DELETE: 'deletecollection' } as Record<string, string>)[
            String(req.method)
          ]
        : ({ GET: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[
            String(req.method)
          ];
    // A list or watch narrowed to one name by a field selector is authorized for that name (so resourceNames apply).
    const selectedName =
      name ?? /(?:^|,)metadata\.name=([^,]+)/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1] ?? undefined;
    if (
      !allowed({
        verb: verb ?? String(req.method).toLowerCase(),
        group,
        resource: resource.plural,
        ...(subresource ? { subresource } : {}),
        ...(resource.namespaced && namespace ? { namespace } : {}),
        ...(selectedName ? { name: selectedName } : {}),
      })
    )
      return;
    const body = await readBody(req);
    if (name === undefined) {
      if (req.method === 'GET') {
        const selectors = matcher(url.searchParams);
        if (watching) return this.#watch(req, res, resource, namespace, selectors, url.searchParams);
        return send(res, 200, this.#list(resource, namespace, selectors));
      }
      if (req.method === 'POST') {
        const object: Json = { ...(body as Json), apiVersion: apiVersionOf(resource), kind: resource.kind };
        const meta = { ...((object.metadata ?? {}) as Json) };
        if (resource.namespaced) meta.namespace = namespace ?? meta.namespace ?? 'default';
        if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${(++this.#uid).toString(36)}`;
        object.metadata = meta;
        const key = this.#key(resource, meta.namespace as string | undefined, String(meta.name));
        if (this.#objects.has(key))
          return send(res, 409, status(409, 'AlreadyExists', `${resource.plural} "${meta.name}" already exists`));
        const invalid = this.#invalid(resource, object);
        if (invalid) return send(res, 422, invalid);
        return send(res, 201, this.#create(resource, object));
      }
      return send(res, 405, status(405, 'MethodNotAllowed', `${req.method} on a collection`));
    }
    const key = this.#key(resource, namespace, name);
    const existing = this.#objects.get(key);
    if (req.method === 'GET') {
      return existing ? send(res, 200, existing) : send(res, 404, notFound(resource, name));
    }
    if (req.method === 'DELETE') {
      if (!existing) return send(res, 404, notFound(resource, name));
      this.#remove(resource, key, existing);
      return send(res, 200, status(200, 'Success', 'deleted'));
    }
    if (req.method === 'PUT' || req.method === 'PATCH') {
      const contentType = String(req.headers['content-type'] ?? '').split(';')[0];
      let next: Json;
      if (req.method === 'PUT') {
        next = body as Json;
        const sent = (next.metadata as Json | undefined)?.resourceVersion;
        if (!existing) return send(res, 404, notFound(resource, name));
        if (sent !== undefined && sent !== (existing.metadata as Json).resourceVersion)
          return send(res, 409, conflict(resource, name));
      } else if (contentType === 'application/json-patch+json') {
        if (!existing) return send(res, 404, notFound(resource, name));
        const patched = jsonPatch(structuredClone(existing), body as Json[]);
        if (typeof patched === 'string') return send(res, 422, status(422, 'Invalid', patched));
        next = patched;
      } else if (
        contentType === 'application/merge-patch+json' ||
        contentType === 'application/strategic-merge-patch+json' ||
        contentType === 'application/apply-patch+yaml'
      ) {
        if (!existing && contentType !== 'application/apply-patch+yaml')
          return send(res, 404, notFound(resource, name));
        const patch = body as Json;
        const sent = (patch.metadata as Json | undefined)?.resourceVersion;
        if (existing && sent !== undefined && sent !== (existing.metadata as Json).resourceVersion)
          return send(res, 409, conflict(resource, name));
        next = mergePatch(
          structuredClone(existing ?? { metadata: { name, ...(namespace ? { namespace } : {}) } }),
          patch,
        ) as Json;
      } else {
        return send(
          res,
          415,
          status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format: ${contentType}`),
        );
      }
      next = { ...next, apiVersion: apiVersionOf(resource), kind: resource.kind };
      if (!existing) {
        const invalid = this.#invalid(resource, next);
        if (invalid) return send(res, 422, invalid);
        return send(res, 201, this.#create(resource, next));
      }
      if (resource.statusSubresource) {
        // The main resource and /status each change only their own part.
        next = subresource === 'status' ? { ...existing, status: next.status } : { ...next, status: existing.status };
      }
      const invalid = this.#invalid(resource, next);
      if (invalid) return send(res, 422, invalid);
      return send(res, 200, this.#store(resource, key, next, existing, 'MODIFIED'));
    }
    return send(res, 405, status(405, 'MethodNotAllowed', String(req.method)));
  }

  #create(resource: SimulatedResource, object: Json): Json {
    const meta = object.metadata as Json;
    const stored: Json = {
      ...object,
      apiVersion: apiVersionOf(resource),
      kind: resource.kind,
      metadata: {
        ...meta,
        ...(resource.namespaced ? { namespace: meta.namespace ?? 'default' } : {}),
        uid: `uid-${++this.#uid}`,
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        generation: 1,
        resourceVersion: String(++this.#rv),
      },
    };
    const key = this.#key(resource, (stored.metadata as Json).namespace as string | undefined, String(meta.name));
    this.#objects.set(key, stored);
    this.#emit({ rv: this.#rv, type: 'ADDED', resource, object: stored });
    return stored;
  }

  #store(resource: SimulatedResource, key: string, next: Json, existing: Json, type: 'MODIFIED'): Json {
    const before = existing.metadata as Json;
    const specChanged =
      JSON.stringify(without(existing, ['metadata', 'status'])) !==
      JSON.stringify(without(next, ['metadata', 'status']));
    const stored: Json = {
      ...next,
      metadata: {
        ...(next.metadata as Json),
        uid: before.uid,
        creationTimestamp: before.creationTimestamp,
        namespace: before.namespace,
        name: before.name,
        generation: Number(before.generation ?? 1) + (specChanged ? 1 : 0),
        resourceVersion: String(++this.#rv),
      },
    };
    if (!resource.namespaced) delete (stored.metadata as Json).namespace;
    this.#objects.set(key, stored);
    this.#emit({ rv: this.#rv, type, resource, object: stored });
    return stored;
  }

  #remove(resource: SimulatedResource, key: string, existing: Json): void {
    this.#objects.delete(key);
    const object = { ...existing, metadata: { ...(existing.metadata as Json), resourceVersion: String(++this.#rv) } };
    this.#emit({ rv: this.#rv, type: 'DELETED', resource, object });
  }

  #emit(event: WatchEvent): void {
    this.#history.push(event);
    if (this.#history.length > 10_000) {
      this.#compactedAt = this.#history[0]!.rv;
      this.#history.shift();
    }
    for (const w of this.#watchers) {
      if (w.resource !== event.resource) continue;
      if (w.namespace && (event.object.metadata as Json).namespace !== w.namespace) continue;
      if (!w.matches(event.object)) continue;
      w.res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
    }
  }

  #list(resource: SimulatedResource, namespace: string | undefined, matches: (o: Json) => boolean): Json {
    const prefix = `${resource.group}/${resource.plural}/${namespace !== undefined ? `${namespace}/` : ''}`;
    const items = [...this.#objects]
      .filter(([k, o]) => k.startsWith(prefix) && matches(o))
      .map(([, o]) => o)
      .sort((a, b) => String((a.metadata as Json).name).localeCompare(String((b.metadata as Json).name)));
    return {
      apiVersion: apiVersionOf(resource),
      kind: `${resource.kind}List`,
      metadata: { resourceVersion: String(this.#rv) },
      items,
    };
  }

  #watch(
    req: IncomingMessage,
    res: ServerResponse,
    resource: SimulatedResource,
    namespace: string | undefined,
    matches: (o: Json) => boolean,
    params: URLSearchParams,
  ): void {
    const from = params.get('resourceVersion');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const start = from === null || from === '' || from === '0' ? undefined : Number(from);
    if (start !== undefined && start < this.#compactedAt) {
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${start} (${this.#compactedAt})`) })}\n`,
      );
      return;
    }
    const inScope = (o: Json) =>
      (namespace === undefined || (o.metadata as Json).namespace === namespace) && matches(o);
    if (start === undefined) {
      for (const o of this.#list(resource, namespace, matches).items as Json[])
        res.write(`${JSON.stringify({ type: 'ADDED', object: o })}\n`);
    } else {
      for (const e of this.#history)
        if (e.rv > start && e.resource === resource && inScope(e.object))
          res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    }
    const watcher: Watcher & { bookmarks: boolean } = {
      resource,
      namespace,
      matches,
      res,
      bookmarks: params.get('allowWatchBookmarks') === 'true',
    };
    this.#watchers.add(watcher);
    const timeout = Number(params.get('timeoutSeconds') ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    req.on('close', () => {
      this.#watchers.delete(watcher);
      if (timer) clearTimeout(timer);
    });
  }

  #bookmarks(): void {
    for (const w of this.#watchers as Set<Watcher & { bookmarks?: boolean }>) {
      // Without bookmarks an idle watch still gets a keep-alive byte, as the real server's proxies send none: the
      // client's inactivity timeout decides.
      if (w.bookmarks)
        w.res.write(
          `${JSON.stringify({ type: 'BOOKMARK', object: { apiVersion: apiVersionOf(w.resource), kind: w.resource.kind, metadata: { resourceVersion: String(this.#rv) } } })}\n`,
        );
    }
  }

  #invalid(resource: SimulatedResource, object: Json): Json | undefined {
    if (!resource.validate || resource.validate(object)) return undefined;
    const causes = (resource.validate.errors ?? []).map((e) => ({
      reason: 'FieldValueInvalid',
      message: e.message,
      field: e.instancePath.slice(1).replace(/\//g, '.') || '<root>',
    }));
    const name = String(((object as Json).metadata as Json | undefined)?.name ?? '');
    return {
      ...status(
        422,
        'Invalid',
        `${resource.kind} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
      ),
      details: { name, group: resource.group, kind: resource.kind, causes },
    };
  }

  #groups(): Json {
    const groups = new Map<string, Set<string>>();
    for (const r of this.resources) if (r.group) groups.set(r.group, (groups.get(r.group) ?? new Set()).add(r.version));
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => ({
        name,
        versions: [...versions].map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
        preferredVersion: { groupVersion: `${name}/${[...versions][0]}`, version: [...versions][0] },
      })),
    };
  }

  #resourceList(res: ServerResponse, group: string, version: string): void {
    const list = this.resources.filter((r) => r.group === group && r.version === version);
    if (list.length === 0) {
      send(res, 404, status(404, 'NotFound', `no API group ${group}/${version}`));
      return;
    }
    const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
    send(res, 200, {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: list.flatMap((r) => [
        { name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs },
        ...(r.statusSubresource
          ? [
              {
                name: `${r.plural}/status`,
                singularName: '',
                namespaced: r.namespaced,
                kind: r.kind,
                verbs: ['get', 'patch', 'update'],
              },
            ]
          : []),
      ]),
    });
  }

  #find(group: string, version: string, plural: string): SimulatedResource | undefined {
    return this.resources.find((r) => r.group === group && r.version === version && r.plural === plural);
  }

  #resourceOf(object: Json): SimulatedResource {
    const r = this.resources.find((x) => apiVersionOf(x) === object.apiVersion && x.kind === object.kind);
    if (!r) throw new Error(`the simulator does not serve ${object.apiVersion} ${object.kind}`);
    return r;
  }

  #key(resource: SimulatedResource, namespace: string | undefined, name: string): string {
    return `${resource.group}/${resource.plural}/${resource.namespaced ? `${namespace ?? 'default'}/` : ''}${name}`;
  }
}

function apiVersionOf(r: SimulatedResource): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

function status(code: number, reason: string, message: string): Json {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: code < 400 ? 'Success' : 'Failure',
    message,
    reason,
    code,
  };
}

function notFound(r: SimulatedResource, name: string): Json {
  return status(404, 'NotFound', `${r.plural}${r.group ? `.${r.group}` : ''} "${name}" not found`);
}

function conflict(r: SimulatedResource, name: string): Json {
  return status(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${r.plural}${r.group ? `.${r.group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
  );
}

function send(res: ServerResponse, code: number, body: Json): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  return String(req.headers['content-type'] ?? '').includes('yaml') ? parse(text) : JSON.parse(text);
}

function parseAll(text: string): Json[] {
  return text
    .split(/^---$/m)
    .map((d) => parse(d) as Json | null)
    .filter((d): d is Json => d !== null && typeof d === 'object');
}

/** `x-kubernetes-int-or-string` means "integer or string": say so to Ajv. */
function intOrString(schema: unknown): Json {
  if (Array.isArray(schema)) return schema.map(intOrString) as unknown as Json;
  if (typeof schema !== 'object' || schema === null) return schema as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) out[k] = intOrString(v);
  if (out['x-kubernetes-int-or-string'] === true && out.type === undefined) out.type = ['integer', 'string'];
  if (out['x-kubernetes-preserve-unknown-fields'] === true && out.type === 'object' && out.properties === undefined)
    out.additionalProperties = true;
  return out;
}

function without(o: Json, keys: string[]): Json {
  const copy = { ...o };
  for (const k of keys) delete copy[k];
  return copy;
}

/** RFC 7386 merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Json =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON patch (add, remove, replace, test); returns an error message when an operation fails. */
export function jsonPatch(doc: Json, ops: Json[]): Json | string {
  for (const op of ops) {
    const parts = String(op.path)
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop()!;
    let parent: unknown = doc;
    for (const p of parts) parent = (parent as Json)?.[p];
    if (typeof parent !== 'object' || parent === null) return `path ${op.path} does not exist`;
    const container = parent as Record<string, unknown>;
    switch (op.op) {
      case 'test':
        if (JSON.stringify(container[last]) !== JSON.stringify(op.value)) return `test failed at ${op.path}`;
        break;
      case 'remove':
        if (!(last in container)) return `path ${op.path} does not exist`;
        if (Array.isArray(container)) (container as unknown[]).splice(Number(last), 1);
        else delete container[last];
        break;
      case 'add':
        if (Array.isArray(container)) {
          const list = container as unknown[];
          list.splice(last === '-' ? list.length : Number(last), 0, op.value);
        } else container[last] = op.value;
        break;
      case 'replace':
        if (!(last in container)) return `path ${op.path} does not exist`;
        container[last] = op.value;
        break;
      default:
        return `unsupported op ${String(op.op)}`;
    }
  }
  return doc;
}

/** A label and field selector as a predicate. */
function matcher(params: URLSearchParams): (o: Json) => boolean {
  const labels = (params.get('labelSelector') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const fields = (params.get('fieldSelector') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return (o) => {
    const meta = (o.metadata ?? {}) as Json;
    const l = (meta.labels ?? {}) as Record<string, string>;
    for (const s of labels) {
      const ne = /^([^!=]+)!=(.*)$/.exec(s);
      const eq = /^([^!=]+)==?(.*)$/.exec(s);
      if (ne) {
        if (l[ne[1]!.trim()] === ne[2]!.trim()) return false;
      } else if (eq) {
        if (l[eq[1]!.trim()] !== eq[2]!.trim()) return false;
      } else if (s.startsWith('!')) {
        if (s.slice(1) in l) return false;
      } else if (!(s in l)) return false;
    }
    for (const f of fields) {
      const [k, v] = f.split('=') as [string, string];
      const actual = k === 'metadata.name' ? meta.name : k === 'metadata.namespace' ? meta.namespace : undefined;
      if (actual !== v) return false;
    }
    return true;
  };
}
