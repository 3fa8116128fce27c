/**
 * The compiler: a pure, total function from the current resources to a snapshot plus a status per resource.
 * No I/O, no clock, no randomness; a mistake in one resource becomes a condition on it and the rest still compiles.
 *
 * Passes, in order:
 *  1. pick this install's ModelGateway and the ModelAPIs it serves (select-gateway.ts) and settle gateway-wide
 *     settings;
 *  2. index Services and EndpointSlices once;
 *  3. compile each ModelAPI, oldest first (creation time, then namespace/name), so older resources win conflicts;
 *  4. drop the rules of a ModelAPI whose public paths another, older one already serves on an overlapping host,
 *     and report the conflict on the loser;
 *  5. the docs pass (docs/build-docs.ts): each served API's description, resolved from the resource, from what the
 *     spec fetcher discovered, or synthesized, merged into the published documents; `Documented` conditions;
 *  6. emit everything sorted, so equal inputs give byte-identical outputs.
 */

import { durationMs } from '../common/durations.ts';
import { compileAuth, DEFAULT_API_KEY_HEADER } from '../policies/auth/compile.ts';
import { exact, flat, sameItems } from '../resources/compact.ts';
import { type ConditionInput, condition, type ResourceStatus } from '../resources/status.ts';
import type { ResourceSet } from '../resources/types.ts';
import type { ModelAPI } from '../schema/model-api.ts';
import { ACCESS_LOG_FIELDS, type ModelGateway } from '../schema/model-gateway.ts';
import { type Discovered, type DocsTask, NOTHING_DISCOVERED } from '../snapshot/discovery.ts';
import type {
  AccessLogSettings,
  Cluster,
  GatewaySettings,
  ListenerSettings,
  RouteRule,
  Snapshot,
} from '../snapshot/types.ts';
import { compileHttpRoutes, DEFAULT_CONTROLLER_NAME } from './compile-httproutes.ts';
import { type CompiledModelAPI, compileModelAPI } from './compile-model-api.ts';
import { DEFAULT_DRAIN_MS, DEFAULT_MAX_BODY_BYTES, DEFAULT_PUBLIC_URL, DEFAULT_VERSION_HEADER } from './defaults.ts';
import { buildDocs, type DocsStatus, type ServedApi } from './docs/build-docs.ts';
import { openAIEndpointPart } from './docs/openai-endpoint-docs.ts';
import type { ResolvedSource } from './docs/version-source.ts';
import { compileDocsSignOn } from './docs-sign-on.ts';
import { compileModelIndex, openAIEndpointPath } from './model-index.ts';
import { compilePolicies, hasPolicies, withPolicies } from './policies.ts';
import { compileRedis } from './redis.ts';
import { type BackendIndex, indexBackends } from './resolve-backend.ts';
import { CompileReuse } from './reuse.ts';
import { selectGateway } from './select-gateway.ts';
import { compileTls } from './tls.ts';
import { compileTracing } from './tracing.ts';

/** Inputs that do not come from resources (command-line flags). */
export interface CompileOptions {
  /** Public URL when no ModelGateway sets one (e.g. derived from --port). */
  readonly defaultPublicURL?: string;
  /** What the spec fetcher found so far (documents, metadata). */
  readonly discovered?: Discovered;
  /** The Gateway API controller name GatewayClasses select modelgate with (default modelgate.dev/gateway-controller). */
  readonly controllerName?: string;
  /**
   * Sources held back by the `breakingChanges: Refuse` policy, by `ref\0version`: documented instead of what was
   * resolved (which is published as the version's `candidate`).
   */
  readonly heldSources?: ReadonlyMap<string, ResolvedSource>;
  /** `--gateway NAMESPACE/NAME`: the ModelGateway of this install, when several share a cluster (select-gateway.ts). */
  readonly gatewayName?: string;
  /** What earlier compiles left to reuse (reuse.ts); without it nothing is reused. */
  readonly reuse?: CompileReuse;
}

/** The compiler's output. */
export interface CompileResult {
  readonly snapshot: Snapshot;
  readonly statuses: readonly ResourceStatus[];
}

/** Compiles resources into a snapshot and statuses. */
export function compileSnapshot(resources: ResourceSet, options: CompileOptions = {}): CompileResult {
  const reuse = options.reuse ?? new CompileReuse();
  const selection = selectGateway(resources, options.gatewayName);
  const statuses: ResourceStatus[] = [...selection.statuses];
  const gateway = selection.gateway;
  const tls = compileTls(gateway, resources.secrets);
  const redis = compileRedis(gateway, resources.secrets);
  const tracing = compileTracing(gateway, resources.secrets);
  const docsAuthProblems: string[] = [];
  const docsSignOn = compileDocsSignOn(gateway, resources.secrets);
  docsAuthProblems.push(...docsSignOn.problems);
  const docsAuth = gateway?.spec.docs?.auth?.providers
    ? compileAuth(
        {
          providers: gateway.spec.docs.auth.providers,
          ...(gateway.spec.docs.auth.allow ? { allow: gateway.spec.docs.auth.allow } : {}),
        },
        gateway.metadata.namespace ?? 'default',
        gateway,
        resources.secrets,
        docsAuthProblems,
      )
    : undefined;
  if (gateway)
    statuses.push(
      statusOf('ModelGateway', gateway, [
        condition('Accepted', 'True', 'Accepted', 'in effect'),
        ...(docsAuthProblems.length > 0 || redis.problems.length > 0 || tracing.problems.length > 0
          ? [
              condition(
                'ResolvedRefs',
                'False',
                'PolicyRefNotResolved',
                [
                  ...(docsAuthProblems.length > 0 ? [`docs.auth: ${docsAuthProblems.join('; ')}`] : []),
                  ...redis.problems,
                  ...tracing.problems,
                ].join('; '),
              ),
            ]
          : []),
        ...(gateway.spec.tls
          ? [
              tls.problems.length > 0
                ? condition('TLSReady', 'False', 'InvalidCertificate', tls.problems.join('; '))
                : condition(
                    'TLSReady',
                    'True',
                    'Ready',
                    `${tls.settings?.certificates.length ?? 0} certificate(s) loaded`,
                  ),
            ]
          : []),
      ]),
    );
  const settings = {
    ...gatewaySettings(gateway, options),
    ...(redis.settings ? { redis: redis.settings } : {}),
    ...(tracing.settings ? { tracing: tracing.settings } : {}),
    ...(tls.settings ? { tls: tls.settings } : {}),
  };

  const index = indexBackends(resources.services, resources.endpointSlices, resources.secrets);
  const compiled = [...selection.modelApis].sort(byAge).map((api) => {
    const base = compileModelAPIReusing(
      reuse,
      api,
      index,
      gateway?.spec.defaults,
      settings.publicURL,
      gateway?.spec.docs?.pathPrefix ?? '',
    );
    // Most APIs have no policies: their compilation is used as is (and stays the same objects across reloads).
    if (!hasPolicies(api)) return { api, result: base };
    const policies = compilePolicies(api, gateway, resources.secrets);
    const result: CompiledModelAPI = {
      ...base,
      rules: withPolicies(base.rules, policies),
      conditions: mergePolicyProblems(base.conditions, policies.problems),
    };
    return { api, result };
  });

  const claimed = new Map<string, string>(); // host + match key → owning ModelAPI ref
  const routes: RouteRule[] = [];
  const clusters: Record<string, Cluster> = {};
  const apis: Snapshot['apis'][number][] = [];
  const served: ServedApi[] = [];
  const resultStatuses: { api: ModelAPI; status: ResourceStatus }[] = [];
  const openAIPath = openAIEndpointPath(gateway);
  const portal = portalPaths(gateway?.spec.docs?.pathPrefix ?? '', openAIPath);
  for (const { api, result } of compiled) {
    const conflict = findPortalConflict(reuse, result, portal) ?? findConflict(reuse, result, claimed);
    let conditions = result.conditions;
    if (conflict) {
      conditions = [
        condition(
          'Accepted',
          'False',
          'PathConflict',
          `public path ${conflict.path} is already served by ${conflict.owner}`,
        ),
        ...result.conditions.filter((c) => c.type !== 'Accepted' && c.type !== 'Ready'),
        condition('Ready', 'False', 'NotAccepted', 'not accepted'),
      ];
    } else if (result.rules.length > 0) {
      for (const key of claimKeys(reuse, result)) claimed.set(key.key, result.ref);
      routes.push(...result.rules);
      for (const c of result.clusters) clusters[c.name] = c;
      apis.push(result.summary);
      served.push({
        api,
        summary: result.summary,
        maxRequestBodyBytes:
          api.spec.maxRequestBodyBytes ?? gateway?.spec.defaults?.maxRequestBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        versionHeader: (api.spec.versionHeader ?? DEFAULT_VERSION_HEADER).toLowerCase(),
      });
    }
    resultStatuses.push({
      api,
      status: {
        ref: result.ref,
        ...(api.metadata.generation !== undefined ? { observedGeneration: api.metadata.generation } : {}),
        conditions,
        fields: conflict ? {} : withGateway(reuse, result.statusFields, selection.name),
      },
    });
  }

  // Gateway API HTTPRoutes compile into the same rule table, after the ModelAPIs.
  const gatewayApi = compileHttpRoutes(resources, index, options.controllerName ?? DEFAULT_CONTROLLER_NAME);
  const routeConflicts = new Map<string, string[]>(); // ref → messages, for HTTPRoutes and ModelAPIs alike
  routes.push(...withoutModelApiConflicts(gatewayApi.rules, claimed, routeConflicts));
  for (const c of gatewayApi.clusters) clusters[c.name] = c;

  const docs = buildDocs(
    served,
    resources.configMaps,
    options.discovered ?? NOTHING_DISCOVERED,
    {
      publicURL: settings.publicURL,
      pathPrefix: gateway?.spec.docs?.pathPrefix ?? '',
      // Where Gateways are served, an unmatched `/` must answer 404 (Gateway API): the landing page is at /portal only.
      rootLanding: gatewayApi.gateways === 0,
      ...(gateway?.spec.auth?.providers.length
        ? {
            securitySchemes: Object.fromEntries(
              // An external auth service has no OpenAPI scheme: what it wants (a cookie, a header) is its own.
              gateway.spec.auth.providers
                .filter((p) => !p.external)
                .map((p) => [
                  p.name,
                  p.clientCertificate
                    ? { type: 'mutualTLS', description: 'A client certificate the gateway verifies (mTLS).' }
                    : p.jwt
                      ? {
                          type: 'http',
                          scheme: 'bearer',
                          bearerFormat: 'JWT',
                          description: `Bearer token${p.jwt.issuer ? ` issued by ${p.jwt.issuer}` : ''}.`,
                        }
                      : {
                          type: 'apiKey',
                          in: 'header',
                          name: p.apiKey?.header ?? DEFAULT_API_KEY_HEADER,
                          description: `API key of the ${p.name} provider${p.apiKey?.query ? ` (also accepted as the \`${p.apiKey.query}\` query parameter)` : ''}.`,
                        },
                ]),
            ),
          }
        : {}),
      title: settings.title,
      description: settings.description,
      ...(gateway?.spec.docs?.contact ? { contact: gateway.spec.docs.contact } : {}),
      ...(options.heldSources ? { heldSources: options.heldSources } : {}),
    },
    gatewayApi.documented,
    reuse.documentedApis,
  );
  const models = compileModelIndex(
    served,
    options.discovered ?? NOTHING_DISCOVERED,
    openAIPath,
    gateway?.spec.defaults,
  );
  const endpointPart = models.endpoint
    ? openAIEndpointPart(
        models.endpoint,
        served.filter((s) => s.api.spec.protocol === 'openai').map((s) => s.api),
        docs.plane.securitySchemes as Record<string, unknown> | undefined,
        gateway ? `ModelGateway/${nsName(gateway)}` : 'ModelGateway',
      )
    : undefined;
  for (const status of gatewayApi.statuses) {
    const documented = docs.statuses.get(status.ref)?.condition;
    const withDocs = documented ? { ...status, conditions: status.conditions.concat(documented) } : status;
    statuses.push(withConflicts(withDocs, routeConflicts));
  }
  for (const { status: original } of resultStatuses) {
    const routed = models.conditions.get(original.ref);
    const plain = routed ? withModelsRouted(original, routed) : original;
    const status = withConflicts(plain, routeConflicts);
    const extra = docs.statuses.get(status.ref);
    statuses.push(extra ? withDocsStatus(reuse, status, extra) : status);
  }
  statuses.sort((a, b) => a.ref.localeCompare(b.ref));
  return {
    snapshot: {
      gateway: settings,
      routes,
      listenerHosts: gatewayApi.listenerHosts,
      clusters: sortKeys(clusters),
      apis,
      ...(models.endpoint ? { openAI: models.endpoint } : {}),
      docs: {
        ...docs.plane,
        ...(models.tasks.length > 0 ? { tasks: mergeTasks(docs.plane.tasks, models.tasks) } : {}),
        ...(endpointPart ? { routeParts: [...docs.plane.routeParts, endpointPart] } : {}),
        ...(docsAuth ? { auth: docsAuth } : {}),
        ...(docsSignOn.signOn ? { sso: docsSignOn.signOn } : {}),
        // Sign-on configured but unusable (its Secret is missing): the docs stay closed, never open by accident.
        ...(gateway?.spec.docs?.auth?.oidc && !docsSignOn.signOn ? { ssoUnavailable: true } : {}),
      },
    },
    statuses,
  };
}

/** The docs' tasks and the model lists the OpenAI endpoint needs: one task per key, in key order. */
function mergeTasks(docsTasks: readonly DocsTask[], more: readonly DocsTask[]): DocsTask[] {
  const byKey = new Map(docsTasks.map((t) => [t.key, t]));
  for (const t of more) if (!byKey.has(t.key)) byKey.set(t.key, t);
  return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** A ModelAPI's status with its `ModelsRouted` condition (OpenAI-compatible APIs only, so few). */
function withModelsRouted(plain: ResourceStatus, routed: ConditionInput): ResourceStatus {
  return { ...plain, conditions: [...plain.conditions, routed] };
}

/**
 * A ModelAPI's status with the docs pass's verdict. While both parts are the same objects (an unchanged API reuses
 * its compilation and its docs), so is the result: the status store recognises it as unchanged by identity and keeps
 * what it published, instead of rebuilding ten thousand statuses on every reload.
 */
function withDocsStatus(reuse: CompileReuse, plain: ResourceStatus, extra: DocsStatus): ResourceStatus {
  const cached = reuse.documentedStatuses.get(extra);
  if (
    cached &&
    cached.plain.ref === plain.ref &&
    cached.plain.conditions === plain.conditions &&
    cached.plain.fields === plain.fields &&
    cached.plain.observedGeneration === plain.observedGeneration
  )
    return cached.status;
  const fields = plain.fields ?? {};
  const versions = (fields.versions as Record<string, unknown>[] | undefined)?.map((v) => ({
    ...v,
    docs: extra.versions[v.name as string],
  }));
  const status: ResourceStatus = {
    ...plain,
    // concat, not a spread: the array is kept as long as the status and gets no spare capacity (see compact.ts)
    conditions: plain.conditions.concat(extra.condition),
    fields: { ...fields, ...(versions ? { versions } : {}), docs: extra.docs },
  };
  reuse.documentedStatuses.set(extra, { plain, status });
  return status;
}

function gatewaySettings(gateway: ModelGateway | undefined, options: CompileOptions): GatewaySettings {
  const spec = gateway?.spec;
  return {
    publicURL: (spec?.publicURL ?? options.defaultPublicURL ?? DEFAULT_PUBLIC_URL).replace(/\/+$/, ''),
    title: spec?.docs?.title ?? 'Model APIs',
    description: spec?.docs?.description ?? '',
    drainTimeoutMs: durationMs(spec?.defaults?.drainTimeout) ?? DEFAULT_DRAIN_MS,
    listener: listenerSettings(spec?.listener),
    paths: {
      escapedSlashes: spec?.paths?.escapedSlashes ?? 'Decode',
      mergeSlashes: spec?.paths?.mergeSlashes ?? true,
    },
    transport: spec?.upstream?.transport === 'Undici' ? 'undici' : 'native',
    ...(spec?.accessLog && spec.accessLog.enabled !== false ? { accessLog: accessLogSettings(spec.accessLog) } : {}),
  };
}

function accessLogSettings(a: NonNullable<ModelGateway['spec']['accessLog']>): AccessLogSettings {
  const slowerThanMs = durationMs(a.filter?.slowerThan);
  return {
    fields: a.fields ?? ACCESS_LOG_FIELDS,
    sampleRatio: a.sampleRatio ?? 1,
    ...(a.filter?.minStatus !== undefined ? { minStatus: a.filter.minStatus } : {}),
    ...(slowerThanMs !== undefined ? { slowerThanMs } : {}),
  };
}

/** Client connection limits with their defaults (nginx-like, except a shorter head timeout). */
function listenerSettings(l: NonNullable<ModelGateway['spec']['listener']> | undefined): ListenerSettings {
  return {
    requestHeadersTimeoutMs: durationMs(l?.requestHeadersTimeout) ?? 15_000,
    requestBodyTimeoutMs: durationMs(l?.requestBodyTimeout) ?? 60_000,
    requestReceiveTimeoutMs: durationMs(l?.requestReceiveTimeout) ?? 300_000,
    idleTimeoutMs: durationMs(l?.idleTimeout) ?? 65_000,
    maxConnectionDurationMs: durationMs(l?.maxConnectionDuration) ?? 3_600_000,
    maxRequestsPerConnection: l?.maxRequestsPerConnection ?? 0,
  };
}

/**
 * HTTPRoute matches that would compete with a ModelAPI for the same host, path and method on the listener without a
 * hostname (where ModelAPIs are served) are left out, and the conflict is reported on both — never resolved silently.
 * Matches with header or query conditions narrow the traffic and do not conflict.
 */
function withoutModelApiConflicts(
  rules: readonly RouteRule[],
  claimed: ReadonlyMap<string, string>,
  conflicts: Map<string, string[]>,
): RouteRule[] {
  const note = (ref: string, message: string) => conflicts.set(ref, [...(conflicts.get(ref) ?? []), message]);
  const out: RouteRule[] = [];
  for (const rule of rules) {
    if (rule.listener !== undefined) {
      out.push(rule);
      continue;
    }
    const hosts = rule.hostnames.length > 0 ? rule.hostnames : ['*any*'];
    const matches = rule.matches.filter((m) => {
      if ((m.headers?.length ?? 0) > 0 || (m.queryParams?.length ?? 0) > 0) return true;
      for (const h of hosts) {
        const owner = claimed.get(claimKey(h, m));
        if (owner) {
          note(
            rule.source,
            `${m.method ?? 'any method'} ${m.path.value} is served by ${owner}; this match is left out`,
          );
          note(owner, `${rule.source} also routes ${m.method ?? 'any method'} ${m.path.value}; the ModelAPI keeps it`);
          return false;
        }
      }
      return true;
    });
    if (matches.length === rule.matches.length) out.push(rule);
    else if (matches.length > 0) out.push({ ...rule, matches });
  }
  return out;
}

function withConflicts(status: ResourceStatus, conflicts: ReadonlyMap<string, string[]>): ResourceStatus {
  const messages = conflicts.get(status.ref);
  if (!messages) return status;
  return {
    ...status,
    conditions: [
      ...status.conditions,
      condition('Conflicted', 'True', 'RouteConflict', [...new Set(messages)].join('; ')),
    ],
  };
}

/** A policy reference problem replaces a True ResolvedRefs (a backend problem already reported stays first). */
function mergePolicyProblems(conditions: ConditionInput[], problems: ConditionInput[]): ConditionInput[] {
  if (problems.length === 0) return conditions;
  const refs = conditions.find((c) => c.type === 'ResolvedRefs');
  if (refs && refs.status === 'False')
    return conditions.map((c) => (c === refs ? { ...c, message: `${c.message}; ${problems[0]!.message}` } : c));
  return [...conditions.filter((c) => c.type !== 'ResolvedRefs'), ...problems];
}

/** Claim keys by compilation: compilations are reused across reloads, so their keys are too. */

/** Keys a ModelAPI claims: (host, path match, method). A catch-all host and a specific host do not overlap. */
function claimKeys(reuse: CompileReuse, result: CompiledModelAPI): readonly { key: string; path: string }[] {
  let keys = reuse.claimKeys.get(result);
  if (keys === undefined) {
    const hosts = result.summary.hostnames.length > 0 ? result.summary.hostnames : ['*any*'];
    keys = result.rules.flatMap((rule) =>
      rule.matches.flatMap((m) => hosts.map((h) => ({ key: claimKey(h, m), path: m.path.value }))),
    );
    reuse.claimKeys.set(result, keys);
  }
  return keys;
}

/** What a match claims on a host: its path match and method (flat: ModelAPIs keep theirs, see compact.ts). */
function claimKey(host: string, m: RouteRule['matches'][number]): string {
  return flat(host, ' ', m.path.type, ' ', m.path.value, ' ', m.method ?? '');
}

function findConflict(
  reuse: CompileReuse,
  result: CompiledModelAPI,
  claimed: Map<string, string>,
): { owner: string; path: string } | undefined {
  for (const { key, path } of claimKeys(reuse, result)) {
    const owner = claimed.get(key);
    if (owner && owner !== result.ref) return { owner, path };
  }
  return undefined;
}

/** The docs portal's own paths under its prefix: exact ones and prefixes. */
interface PortalPaths {
  /** The cache key: the portal's prefix and the OpenAI endpoint's path. */
  readonly prefix: string;
  readonly exact: readonly string[];
  readonly prefixes: readonly string[];
  /** The OpenAI endpoint's path, when it is on. */
  readonly openAI?: string;
}

function portalPaths(portal: string, openAI: string | undefined): PortalPaths {
  const exact = [
    portal,
    `${portal}/`,
    `${portal}/docs`,
    `${portal}/docs/`,
    `${portal}/redoc`,
    `${portal}/openapi.json`,
    `${portal}/openapi.yaml`,
    `${portal}/changelog`,
    `${portal}/changelog.json`,
    `${portal}/changelog.atom`,
  ].filter((p) => p !== '');
  return {
    prefix: `${portal}\0${openAI ?? ''}`,
    exact,
    prefixes: [`${portal}/openapi/`, `${portal}/docs-assets/`, `${portal}/changelog/`],
    ...(openAI ? { openAI } : {}),
  };
}

/** Portal conflicts by compilation and portal prefix: compilations are reused across reloads, so is the verdict. */

type Conflict = { owner: string; path: string };

/** The docs portal's paths are served before routing: an API overlapping them would be partly unreachable. */
function findPortalConflict(reuse: CompileReuse, result: CompiledModelAPI, portal: PortalPaths): Conflict | undefined {
  const known = reuse.portalConflicts.get(result);
  if (known?.prefix === portal.prefix) return known.conflict;
  const conflict = portalConflict(result, portal);
  reuse.portalConflicts.set(result, { prefix: portal.prefix, conflict });
  return conflict;
}

function portalConflict(result: CompiledModelAPI, { exact, prefixes, openAI }: PortalPaths): Conflict | undefined {
  for (const rule of result.rules) {
    for (const m of rule.matches) {
      const v = m.path.value;
      const below = (p: string) => m.path.type === 'PathPrefix' && p.startsWith(`${v}/`);
      if (openAI && (v === openAI || v.startsWith(`${openAI}/`) || below(openAI)))
        return { owner: 'the OpenAI endpoint (ModelGateway spec.openAIEndpoint moves or disables it)', path: v };
      if (exact.some((e) => e === v || below(e)) || prefixes.some((p) => v.startsWith(p) || below(p) || `${v}/` === p))
        return { owner: 'the docs portal (ModelGateway spec.docs.pathPrefix moves it)', path: v };
    }
  }
  return undefined;
}

function statusOf(kind: string, obj: ModelAPI | ModelGateway, conditions: ConditionInput[]): ResourceStatus {
  return {
    ref: `${kind}/${nsName(obj)}`,
    ...(obj.metadata.generation !== undefined ? { observedGeneration: obj.metadata.generation } : {}),
    conditions,
  };
}

function byAge(a: ModelAPI | ModelGateway, b: ModelAPI | ModelGateway): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta !== tb ? (ta < tb ? -1 : 1) : nsName(a).localeCompare(nsName(b));
}

function nsName(obj: { metadata: { name: string; namespace?: string | undefined } }): string {
  return `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  // Code-unit order: deterministic like localeCompare, and far cheaper over ten thousand keys. Keys sorted alone,
  // not entries: no [key, value] pair per cluster on every reload.
  const sorted: Record<string, T> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key]!;
  return sorted;
}

/**
 * The previous compilation of a ModelAPI, reused when nothing it depends on changed: the same resource object (the
 * sources hand back the same object for an unchanged resource), the same defaults, URLs, and the same Service,
 * EndpointSlice and Secret objects behind its backends. A reload of ten thousand APIs where one changed then compiles
 * one — less time and far less garbage. Results are immutable, so sharing them between snapshots is safe; the cache
 * holds no resource alive (weak keys).
 */
const depsScratch: unknown[] = [];

function compileModelAPIReusing(
  reuse: CompileReuse,
  api: ModelAPI,
  index: BackendIndex,
  defaults: Parameters<typeof compileModelAPI>[2],
  publicURL: string,
  docsPrefix: string,
): CompiledModelAPI {
  const namespace = api.metadata.namespace ?? 'default';
  // Gathered in one scratch list (no allocation per API per reload); a copy is kept only when it is stored.
  const deps = depsScratch;
  deps.length = 0;
  deps.push(defaults, publicURL, docsPrefix);
  for (const v of api.spec.versions) {
    const svc = v.backend.service;
    if (svc) {
      const key = `${svc.namespace ?? namespace}/${svc.name}`;
      deps.push(index.services.get(key), ...(index.slicesByService.get(key) ?? []), '|');
    }
    const headersSecret = v.requestHeaders?.secret;
    if (headersSecret) deps.push(index.secrets.get(`${headersSecret.namespace ?? namespace}/${headersSecret.name}`));
    const tls = v.backend.tls;
    if (tls?.caSecret) deps.push(index.secrets.get(`${tls.caSecret.namespace ?? namespace}/${tls.caSecret.name}`));
    if (tls?.clientCertificate)
      deps.push(index.secrets.get(`${tls.clientCertificate.namespace ?? namespace}/${tls.clientCertificate.name}`));
  }
  const cached = reuse.modelApis.get(api);
  if (cached && sameItems(cached.deps, deps)) return cached.result;
  const result = compileModelAPI(api, index, defaults, publicURL, docsPrefix);
  reuse.modelApis.set(api, { deps: exact(deps), result });
  return result;
}

/** Status fields with the serving ModelGateway added, the same object for the same inputs (keeps the reuse caches). */
function withGateway(
  reuse: CompileReuse,
  fields: Record<string, unknown>,
  gateway: string | undefined,
): Record<string, unknown> {
  if (gateway === undefined) return fields;
  let byFields = reuse.gatewayFields.get(gateway);
  if (!byFields) {
    byFields = new WeakMap();
    reuse.gatewayFields.set(gateway, byFields);
  }
  let out = byFields.get(fields);
  if (!out) {
    out = { ...fields, gateway };
    byFields.set(fields, out);
  }
  return out;
}
