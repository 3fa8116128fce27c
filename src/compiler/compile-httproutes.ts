/**
 * Compiles Gateway API resources into the same rules and clusters as ModelAPIs. Pure. Passes:
 *  1. GatewayClasses whose controllerName is modelgate's; Gateways of those classes; their HTTP listeners;
 *  2. every HTTPRoute, oldest first, attached to each parentRef's listeners that allow it (namespace policy, kind,
 *     sectionName, port) with the intersection of listener and route hostnames;
 *  3. each rule → one routing rule per attachment: matches with the specification's defaults, filters (header
 *     modifiers, redirect, URL rewrite, mirror), weighted backendRefs resolved through Services or InferencePools
 *     (inference-pools.ts; cross-namespace only with a ReferenceGrant; an unresolvable reference keeps its share of the
 *     traffic and answers 500);
 *  4. conditions per route parent (Accepted, ResolvedRefs) with the standard reasons, and per Gateway.
 */

import { durationMs } from '../common/durations.ts';
import { regexError } from '../common/safe-regex.ts';
import { type ConditionInput, condition, type ResourceStatus } from '../resources/status.ts';
import type { ResourceSet } from '../resources/types.ts';
import {
  type BackendTLSPolicy,
  GATEWAY_GROUP,
  type Gateway,
  type HeaderModifierSpec,
  type HTTPRoute,
  type HTTPRouteFilter,
  type Listener,
} from '../schema/gateway-api.ts';
import { INFERENCE_GROUP } from '../schema/inference-pool.ts';
import type {
  Cluster,
  HeaderModifier,
  PathRewrite,
  RedirectAction,
  RouteAction,
  RouteBackend,
  RouteFilters,
  RouteMatch,
  RouteRule,
  UpstreamTls,
} from '../snapshot/types.ts';
import { DEFAULT_MAX_BODY_BYTES } from './defaults.ts';
import type { RouteMatchMapping } from './docs/rebase.ts';
import { allowsRoute, gatewayStatus, intersectHostnames } from './gateway-listeners.ts';
import { findPool, isPoolRef, PoolUses, poolCluster, unsupportedPool } from './inference-pools.ts';
import { type BackendIndex, resolveBackend } from './resolve-backend.ts';

/** modelgate's Gateway API controller name (a GatewayClass selects modelgate with it). */
export const DEFAULT_CONTROLLER_NAME = 'modelgate.dev/gateway-controller';

/** The annotation by which a Service declares the path of its OpenAPI document. */
export const OPENAPI_PATH_ANNOTATION = 'modelgate.dev/openapi-path';

/** A documented Service behind an HTTPRoute: what the docs pass fetches and where its paths are public. */
export interface RouteDocTarget {
  /** `HTTPRoute/<namespace>/<name>`. */
  readonly route: string;
  readonly namespace: string;
  readonly name: string;
  /** `<namespace>/<name>` of the Service. */
  readonly service: string;
  readonly cluster: string;
  readonly openapiPath: string;
  readonly hostnames: readonly string[];
  readonly matches: readonly RouteMatchMapping[];
}

/** What the Gateway API pass produces. */
export interface GatewayApiResult {
  /** Services behind routes that declare their API description. */
  readonly documented: readonly RouteDocTarget[];
  readonly rules: RouteRule[];
  readonly clusters: Cluster[];
  readonly listenerHosts: string[];
  readonly statuses: ResourceStatus[];
  /** How many Gateways modelgate serves. */
  readonly gateways: number;
}

interface AttachedListener {
  readonly gateway: Gateway;
  readonly listener: Listener;
}

const NO_RETRY = { attempts: 0, on: [], statuses: [], nonIdempotent: false, backoffMs: 0, budgetPercent: 20 };

/** Compiles the Gateway API objects of a resource set. */
export function compileHttpRoutes(
  resources: ResourceSet,
  index: BackendIndex,
  controllerName: string,
): GatewayApiResult {
  const statuses: ResourceStatus[] = [];
  const classes = new Set(
    resources.gatewayClasses.filter((c) => c.spec.controllerName === controllerName).map((c) => c.metadata.name),
  );
  for (const c of resources.gatewayClasses) {
    if (classes.has(c.metadata.name))
      statuses.push({
        ref: `GatewayClass/-/${c.metadata.name}`,
        conditions: [condition('Accepted', 'True', 'Accepted', 'handled by modelgate')],
      });
  }
  const gateways = resources.gateways.filter((g) => classes.has(g.spec.gatewayClassName));
  const listenerHosts = new Set<string>();
  for (const g of gateways)
    for (const l of g.spec.listeners)
      if (l.protocol === 'HTTP' && l.hostname) listenerHosts.add(l.hostname.toLowerCase());
  /** Routes attached per listener (`ns/gateway/listener`), for the listeners' status. */
  const attachedRoutes = new Map<string, Set<string>>();
  const namespaceLabels = new Map(resources.namespaces.map((n) => [n.metadata.name, n.metadata.labels ?? {}]));
  const clusters = new Map<string, Cluster>();
  const rules: RouteRule[] = [];
  const routes = [...resources.httpRoutes].sort(byAge);
  const documented = new Map<string, RouteDocTarget>();
  const pools = new PoolUses();

  for (const route of routes) {
    const routeNs = ns(route);
    const ref = `HTTPRoute/${routeNs}/${route.metadata.name}`;
    const attachments: { listener: AttachedListener; hostnames: string[] }[] = [];
    const conditions: ConditionInput[] = [];
    const parentProblems: string[] = [];
    /** The parentRefs that name a Gateway of this controller: the route's status speaks for those. */
    const ours: Record<string, unknown>[] = [];
    for (const parent of route.spec.parentRefs ?? []) {
      if ((parent.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (parent.kind ?? 'Gateway') !== 'Gateway') continue;
      const gwNs = parent.namespace ?? routeNs;
      const gateway = gateways.find((g) => g.metadata.name === parent.name && ns(g) === gwNs);
      if (!gateway) continue; // not ours (another controller's Gateway) or missing
      ours.push({
        group: GATEWAY_GROUP,
        kind: 'Gateway',
        namespace: gwNs,
        name: parent.name,
        ...(parent.sectionName ? { sectionName: parent.sectionName } : {}),
        ...(parent.port !== undefined ? { port: parent.port } : {}),
      });
      const candidates = gateway.spec.listeners.filter(
        (l) =>
          l.protocol === 'HTTP' &&
          (parent.sectionName === undefined || l.name === parent.sectionName) &&
          (parent.port === undefined || l.port === parent.port),
      );
      let attachedHere = 0;
      for (const listener of candidates) {
        if (!allowsRoute(listener, gwNs, routeNs, namespaceLabels)) continue;
        const hostnames = intersectHostnames(listener.hostname, route.spec.hostnames);
        if (hostnames === undefined) continue;
        attachments.push({ listener: { gateway, listener }, hostnames });
        const key = `${gwNs}/${gateway.metadata.name}/${listener.name}`;
        attachedRoutes.set(key, (attachedRoutes.get(key) ?? new Set()).add(ref));
        attachedHere++;
      }
      if (attachedHere === 0)
        parentProblems.push(
          candidates.length === 0
            ? `no listener of Gateway ${gwNs}/${parent.name} matches sectionName/port`
            : `Gateway ${gwNs}/${parent.name} does not allow this route (namespace or hostname)`,
        );
    }
    if (attachments.length === 0) {
      conditions.push(
        condition(
          'Accepted',
          'False',
          parentProblems.length > 0 ? 'NotAllowedByListeners' : 'NoMatchingParent',
          parentProblems.join('; ') || 'no parent Gateway handled by modelgate',
        ),
      );
      statuses.push({
        ref,
        conditions,
        ...(route.metadata.generation !== undefined ? { observedGeneration: route.metadata.generation } : {}),
        ...(ours.length > 0 ? { fields: { parents: ours } } : {}),
      });
      continue;
    }
    // A pattern the data plane's engine cannot compile makes the whole route unsupported (Gateway API: Accepted=False,
    // UnsupportedValue) — never a snapshot that fails to build.
    const badPatterns = unsupportedPatterns(route);
    if (badPatterns.length > 0) {
      conditions.push(condition('Accepted', 'False', 'UnsupportedValue', badPatterns.join('; ')));
      statuses.push({
        ref,
        conditions,
        ...(route.metadata.generation !== undefined ? { observedGeneration: route.metadata.generation } : {}),
        ...(ours.length > 0 ? { fields: { parents: ours } } : {}),
      });
      continue;
    }
    conditions.push(condition('Accepted', 'True', 'Accepted', `attached to ${attachments.length} listener(s)`));
    const refProblems: { reason: string; message: string }[] = [];
    for (const [r, rule] of (route.spec.rules ?? []).entries()) {
      const compiled = compileRule(route, r, rule, index, resources, clusters, refProblems);
      noteDocumented(
        documented,
        route,
        ref,
        compiled,
        index,
        attachments.flatMap((a) => a.hostnames),
      );
      for (const [a, attachment] of attachments.entries()) {
        rules.push({
          id: `${ref}#rules/${rule.name ?? r}${attachments.length > 1 ? `@${a}` : ''}`,
          source: ref,
          hostnames: attachment.hostnames,
          ...(attachment.listener.listener.hostname
            ? { listener: attachment.listener.listener.hostname.toLowerCase() }
            : {}),
          matches: compiled.matches,
          action: compiled.action,
          labels: { api: ref, version: '' },
        });
      }
    }
    // The pools this route may reach (another namespace's only with a ReferenceGrant) report it as their user.
    for (const rule of route.spec.rules ?? [])
      for (const b of rule.backendRefs ?? []) {
        const poolNs = b.namespace ?? routeNs;
        if (!isPoolRef(b)) continue;
        if (poolNs !== routeNs && !granted(resources, routeNs, poolNs, b.name, INFERENCE_GROUP, 'InferencePool'))
          continue;
        pools.note(poolNs, b.name, ref, ours);
      }
    conditions.push(
      refProblems.length === 0
        ? condition('ResolvedRefs', 'True', 'ResolvedRefs', 'all references resolved')
        : condition('ResolvedRefs', 'False', refProblems[0]!.reason, refProblems.map((p) => p.message).join('; ')),
    );
    statuses.push({
      ref,
      conditions,
      ...(route.metadata.generation !== undefined ? { observedGeneration: route.metadata.generation } : {}),
      fields: { parents: ours },
    });
  }
  for (const g of gateways) statuses.push(gatewayStatus(g, attachedRoutes));
  statuses.push(...pools.statuses(resources));
  return {
    documented: [...documented.values()].sort((a, b) =>
      `${a.route} ${a.service}`.localeCompare(`${b.route} ${b.service}`),
    ),
    rules,
    clusters: [...clusters.values()],
    listenerHosts: [...listenerHosts].sort(),
    statuses,
    gateways: gateways.length,
  };
}

type RouteRuleSpec = NonNullable<HTTPRoute['spec']['rules']>[number];

/** Records the Services of a rule that declare an OpenAPI document, with the matches and rewrite that reach them. */
function noteDocumented(
  documented: Map<string, RouteDocTarget>,
  route: HTTPRoute,
  ref: string,
  compiled: { matches: RouteMatch[]; action: RouteAction },
  index: BackendIndex,
  hostnames: readonly string[],
): void {
  if (compiled.action.type !== 'Forward') return;
  for (const backend of compiled.action.backends) {
    if (!backend.cluster.startsWith('svc:')) continue;
    const service = backend.cluster.slice(4, backend.cluster.lastIndexOf(':'));
    const path = index.services.get(service)?.metadata.annotations?.[OPENAPI_PATH_ANNOTATION];
    if (!path?.startsWith('/')) continue;
    const rewrite = backend.rewrite;
    const matches: RouteMatchMapping[] = compiled.matches
      .filter((m) => m.path.type === 'Exact' || m.path.type === 'PathPrefix')
      .map((m) => ({
        type: m.path.type as 'Exact' | 'PathPrefix',
        value: m.path.value,
        ...(rewrite
          ? {
              rewrite:
                rewrite.type === 'ReplaceFullPath'
                  ? { type: 'ReplaceFullPath' as const, value: rewrite.replaceFullPath }
                  : { type: 'ReplacePrefixMatch' as const, value: rewrite.replacePrefixMatch },
            }
          : {}),
      }));
    const key = `${ref} ${service}`;
    const existing = documented.get(key);
    documented.set(key, {
      route: ref,
      namespace: ns(route),
      name: route.metadata.name,
      service,
      cluster: backend.cluster,
      openapiPath: path,
      hostnames: [...new Set([...(existing?.hostnames ?? []), ...hostnames])],
      matches: [...(existing?.matches ?? []), ...matches],
    });
  }
}

function compileRule(
  route: HTTPRoute,
  r: number,
  rule: RouteRuleSpec,
  index: BackendIndex,
  resources: ResourceSet,
  clusters: Map<string, Cluster>,
  problems: { reason: string; message: string }[],
): { matches: RouteMatch[]; action: RouteAction } {
  const matches = (rule.matches && rule.matches.length > 0 ? rule.matches : [{}]).map(
    (m): RouteMatch => ({
      path: {
        type: (m.path?.type ?? 'PathPrefix') as RouteMatch['path']['type'],
        value: m.path?.value ?? '/',
      },
      ...(m.method ? { method: m.method } : {}),
      ...(m.headers?.length
        ? {
            headers: m.headers.map((h) => ({
              type: (h.type ?? 'Exact') as 'Exact',
              name: h.name.toLowerCase(),
              value: h.value,
            })),
          }
        : {}),
      ...(m.queryParams?.length
        ? {
            queryParams: m.queryParams.map((q) => ({
              type: (q.type ?? 'Exact') as 'Exact',
              name: q.name,
              value: q.value,
            })),
          }
        : {}),
    }),
  );
  const filters = rule.filters ?? [];
  const redirect = redirectAction(filters);
  if (redirect) return { matches, action: redirect };
  const ruleFilters = routeFilters(filters, route, index, resources, clusters, problems);
  const rewrite = pathModifier(filters.find((f) => f.type === 'URLRewrite')?.urlRewrite?.path);
  const backends: RouteBackend[] = [];
  for (const b of rule.backendRefs ?? []) {
    const weight = b.weight ?? 1;
    const resolved = resolveRef(b, route, index, resources);
    const backendFilters = routeFilters(b.filters ?? [], route, index, resources, clusters, problems);
    const backendRewrite = pathModifier(b.filters?.find((f) => f.type === 'URLRewrite')?.urlRewrite?.path) ?? rewrite;
    if ('invalid' in resolved) {
      problems.push(resolved.invalid);
      backends.push({ cluster: '', weight, invalid: resolved.invalid.message });
      continue;
    }
    clusters.set(resolved.cluster.name, resolved.cluster);
    const backendRedirect = redirectAction(b.filters ?? []);
    backends.push({
      cluster: resolved.cluster.name,
      weight,
      ...(backendRedirect ? { redirect: backendRedirect } : {}),
      ...(backendRewrite ? { rewrite: backendRewrite } : {}),
      ...(backendFilters ? { filters: backendFilters } : {}),
    });
  }
  if (backends.length === 0) {
    return {
      matches,
      action: {
        type: 'Fail',
        error: 'routeMisconfigured',
        detail: `rule ${rule.name ?? r} of HTTPRoute ${ns(route)}/${route.metadata.name} has no backendRefs`,
      },
    };
  }
  return {
    matches,
    action: {
      type: 'Forward',
      backends,
      timeouts: {
        requestMs: durationMs(rule.timeouts?.request) ?? 0,
        backendRequestMs: durationMs(rule.timeouts?.backendRequest) ?? 0,
        idleMs: 0,
      },
      retry: NO_RETRY,
      maxRequestBodyBytes: DEFAULT_MAX_BODY_BYTES,
      ...(ruleFilters ? { filters: ruleFilters } : {}),
    },
  };
}

/** A RequestRedirect filter (with the ResponseHeaderModifier next to it) as a redirect action. */
function redirectAction(filters: readonly HTTPRouteFilter[]): RedirectAction | undefined {
  const redirect = filters.find((f) => f.type === 'RequestRedirect')?.requestRedirect;
  if (!redirect) return undefined;
  const responseHeaders = headerModifier(
    filters.find((f) => f.type === 'ResponseHeaderModifier')?.responseHeaderModifier,
  );
  const path = pathModifier(redirect.path);
  return {
    type: 'Redirect',
    ...(redirect.scheme ? { scheme: redirect.scheme } : {}),
    ...(redirect.hostname ? { hostname: redirect.hostname } : {}),
    ...(redirect.port ? { port: redirect.port } : {}),
    ...(path ? { path } : {}),
    statusCode: redirect.statusCode ?? 302,
    ...(responseHeaders ? { responseHeaders } : {}),
  };
}

function routeFilters(
  filters: readonly HTTPRouteFilter[],
  route: HTTPRoute,
  index: BackendIndex,
  resources: ResourceSet,
  clusters: Map<string, Cluster>,
  problems: { reason: string; message: string }[],
): RouteFilters | undefined {
  const requestHeaders = headerModifier(filters.find((f) => f.type === 'RequestHeaderModifier')?.requestHeaderModifier);
  const responseHeaders = headerModifier(
    filters.find((f) => f.type === 'ResponseHeaderModifier')?.responseHeaderModifier,
  );
  const hostRewrite = filters.find((f) => f.type === 'URLRewrite')?.urlRewrite?.hostname;
  const mirrors: { cluster: string; percent: number }[] = [];
  for (const f of filters) {
    if (f.type !== 'RequestMirror' || !f.requestMirror) continue;
    const resolved = resolveRef(f.requestMirror.backendRef, route, index, resources);
    if ('invalid' in resolved) {
      problems.push(resolved.invalid);
      continue;
    }
    clusters.set(resolved.cluster.name, resolved.cluster);
    const fraction = f.requestMirror.fraction;
    const percent =
      f.requestMirror.percent ?? (fraction ? (fraction.numerator / (fraction.denominator ?? 100)) * 100 : 100);
    mirrors.push({ cluster: resolved.cluster.name, percent });
  }
  if (!requestHeaders && !responseHeaders && !hostRewrite && mirrors.length === 0) return undefined;
  return {
    ...(requestHeaders ? { requestHeaders } : {}),
    ...(responseHeaders ? { responseHeaders } : {}),
    ...(hostRewrite ? { hostRewrite } : {}),
    ...(mirrors.length > 0 ? { mirrors } : {}),
  };
}

/** The regular expressions of a route's matches that RE2 (the data plane's engine) does not compile, with why. */
function unsupportedPatterns(route: HTTPRoute): string[] {
  const problems: string[] = [];
  for (const [r, rule] of (route.spec.rules ?? []).entries()) {
    for (const [m, match] of (rule.matches ?? []).entries()) {
      const at = `spec.rules[${r}].matches[${m}]`;
      const check = (field: string, type: string | undefined, value: string | undefined) => {
        if (type !== 'RegularExpression' || value === undefined) return;
        const error = regexError(value);
        if (error) problems.push(`${at}.${field}: the regular expression does not compile (RE2 syntax): ${error}`);
      };
      check('path', match.path?.type, match.path?.value);
      for (const [i, h] of (match.headers ?? []).entries()) check(`headers[${i}]`, h.type, h.value);
      for (const [i, q] of (match.queryParams ?? []).entries()) check(`queryParams[${i}]`, q.type, q.value);
    }
  }
  return problems;
}

function headerModifier(spec: HeaderModifierSpec | undefined): HeaderModifier | undefined {
  if (!spec) return undefined;
  return {
    set: (spec.set ?? []).map((h) => [h.name.toLowerCase(), h.value] as const),
    add: (spec.add ?? []).map((h) => [h.name.toLowerCase(), h.value] as const),
    remove: (spec.remove ?? []).map((h) => h.toLowerCase()),
  };
}

function pathModifier(
  spec: { type: string; replaceFullPath?: string; replacePrefixMatch?: string } | undefined,
): PathRewrite | undefined {
  if (!spec) return undefined;
  if (spec.type === 'ReplaceFullPath' && spec.replaceFullPath !== undefined)
    return { type: 'ReplaceFullPath', replaceFullPath: spec.replaceFullPath };
  if (spec.type === 'ReplacePrefixMatch' && spec.replacePrefixMatch !== undefined)
    return { type: 'ReplacePrefixMatch', replacePrefixMatch: spec.replacePrefixMatch };
  return undefined;
}

/** Resolves a backendRef (a Service, or an InferencePool) to a cluster, honouring ReferenceGrants for other namespaces. */
function resolveRef(
  b: { group?: string; kind?: string; name: string; namespace?: string; port?: number },
  route: HTTPRoute,
  index: BackendIndex,
  resources: ResourceSet,
): { cluster: Cluster } | { invalid: { reason: string; message: string } } {
  const routeNs = ns(route);
  const targetNs = b.namespace ?? routeNs;
  if (isPoolRef(b)) {
    if (targetNs !== routeNs && !granted(resources, routeNs, targetNs, b.name, INFERENCE_GROUP, 'InferencePool'))
      return {
        invalid: {
          reason: 'RefNotPermitted',
          message: `no ReferenceGrant in ${targetNs} allows HTTPRoutes from ${routeNs} to InferencePool ${b.name}`,
        },
      };
    const pool = findPool(resources, targetNs, b.name);
    if (!pool)
      return { invalid: { reason: 'BackendNotFound', message: `InferencePool ${targetNs}/${b.name} not found` } };
    const unsupported = unsupportedPool(pool);
    if (unsupported) return { invalid: { reason: 'UnsupportedProtocol', message: unsupported } };
    return { cluster: poolCluster(pool, resources) };
  }
  if ((b.group ?? '') !== '' || (b.kind ?? 'Service') !== 'Service')
    return {
      invalid: { reason: 'InvalidKind', message: `backendRef kind ${b.group ?? ''}/${b.kind} is not supported` },
    };
  if (targetNs !== routeNs && !granted(resources, routeNs, targetNs, b.name))
    return {
      invalid: {
        reason: 'RefNotPermitted',
        message: `no ReferenceGrant in ${targetNs} allows HTTPRoutes from ${routeNs} to Service ${b.name}`,
      },
    };
  if (b.port === undefined)
    return { invalid: { reason: 'UnsupportedValue', message: `backendRef ${targetNs}/${b.name} needs a port` } };
  // BackendTLSPolicy: the Service is spoken to over HTTPS, verified against the policy's CAs and hostname.
  const policy = backendTlsPolicy(resources, targetNs, b.name);
  let tls: UpstreamTls | undefined;
  if (policy) {
    const v = policy.spec.validation;
    const cas: string[] = [];
    for (const ref of v.caCertificateRefs ?? []) {
      const cm = resources.configMaps.find(
        (c) => c.metadata.name === ref.name && (c.metadata.namespace ?? 'default') === targetNs,
      );
      const pem = ref.kind === 'ConfigMap' && (ref.group ?? '') === '' ? cm?.data?.['ca.crt'] : undefined;
      if (!pem)
        return {
          invalid: {
            reason: 'InvalidCACertificateRef',
            message: `BackendTLSPolicy ${targetNs}/${policy.metadata.name}: ConfigMap ${targetNs}/${ref.name} with ca.crt not found`,
          },
        };
      cas.push(pem);
    }
    tls = { serverName: v.hostname, ...(cas.length > 0 ? { caPem: cas.join('\n') } : {}) };
  }
  const resolved = resolveBackend(
    { service: { name: b.name, namespace: targetNs, port: b.port }, ...(tls ? { tls: {} } : {}) },
    routeNs,
    index,
  );
  if (!resolved.ok) return { invalid: { reason: 'BackendNotFound', message: resolved.message } };
  return {
    cluster: {
      ...(tls ? { tls } : {}),
      name: `svc:${targetNs}/${b.name}:${b.port}${tls ? ':tls' : ''}`,
      protocol: 'openapi',
      basePath: '',
      endpoints: resolved.endpoints,
      loadBalancer: 'RoundRobin',
      connectTimeoutMs: 5000,
      passiveHealthCheck: { consecutiveFailures: 5, ejectionTimeMs: 10_000, maxEjectionPercent: 50 },
    },
  };
}

/** The BackendTLSPolicy that targets a Service (the oldest, when several do). */
function backendTlsPolicy(resources: ResourceSet, namespace: string, service: string): BackendTLSPolicy | undefined {
  return [...resources.backendTLSPolicies]
    .sort(byAge)
    .find(
      (p) =>
        ns(p) === namespace &&
        p.spec.targetRefs.some((t) => (t.group ?? '') === '' && t.kind === 'Service' && t.name === service),
    );
}

function granted(
  resources: ResourceSet,
  fromNs: string,
  toNs: string,
  name: string,
  group = '',
  kind = 'Service',
): boolean {
  return resources.referenceGrants.some(
    (g) =>
      ns(g) === toNs &&
      g.spec.from.some((f) => f.group === GATEWAY_GROUP && f.kind === 'HTTPRoute' && f.namespace === fromNs) &&
      g.spec.to.some((t) => t.group === group && t.kind === kind && (t.name === undefined || t.name === name)),
  );
}

function ns(obj: { metadata: { namespace?: string | undefined } }): string {
  return obj.metadata.namespace ?? 'default';
}

function byAge(a: { metadata: HTTPRoute['metadata'] }, b: { metadata: HTTPRoute['metadata'] }): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return `${ns(a)}/${a.metadata.name}`.localeCompare(`${ns(b)}/${b.metadata.name}`);
}
