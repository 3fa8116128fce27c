/** Compiles one ModelAPI into clusters, routing rules and its status conditions. */

import { durationMs } from '../common/durations.ts';
import type { UpstreamModel } from '../protocols/protocol.ts';
import { PROTOCOLS } from '../protocols/table.ts';
import { canonical, exact, flat } from '../resources/compact.ts';
import { type ConditionInput, condition } from '../resources/status.ts';
import type { ModelAPI, ModelVersion } from '../schema/model-api.ts';
import type { ModelGatewaySpec } from '../schema/model-gateway.ts';
import type { ApiSummary, Cluster, RouteBackend, RouteRule, VersionDeprecation } from '../snapshot/types.ts';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_VERSION_HEADER,
  resolvePassive,
  resolveRetries,
  resolveTimeouts,
} from './defaults.ts';
import { resolveLoadBalancer } from './load-balancer.ts';
import { type BackendIndex, resolveBackend, resolveUpstreamTls } from './resolve-backend.ts';
import { secretEntry } from './secret-entry.ts';

/** Everything one ModelAPI contributes to the snapshot. */
export interface CompiledModelAPI {
  readonly ref: string;
  readonly clusters: Cluster[];
  readonly rules: RouteRule[];
  readonly summary: ApiSummary;
  readonly conditions: ConditionInput[];
  readonly statusFields: Record<string, unknown>;
}

// The conditions almost every API reports, one object each (ten thousand APIs would otherwise hold as many copies).
const ALL_RESOLVED = condition('ResolvedRefs', 'True', 'ResolvedRefs', 'all backends resolved');
const ALL_READY = condition('Ready', 'True', 'Ready', 'every version has ready endpoints');

/** The public path prefix of a ModelAPI. */
export function pathPrefixOf(api: ModelAPI): string {
  return api.spec.pathPrefix ?? `/models/${api.metadata.name}`;
}

/** Weights as served: explicit weights, or all traffic to the first version when none is set. */
function effectiveWeights(api: ModelAPI): number[] {
  const anySet = api.spec.versions.some((v) => v.weight !== undefined);
  return api.spec.versions.map((v, i) => (anySet ? (v.weight ?? 0) : i === 0 ? 1 : 0));
}

/** Compiles a schema-valid ModelAPI; problems become conditions, never exceptions. */
export function compileModelAPI(
  api: ModelAPI,
  index: BackendIndex,
  defaults: ModelGatewaySpec['defaults'],
  publicURL: string,
  docsPrefix = '',
): CompiledModelAPI {
  const namespace = api.metadata.namespace ?? 'default';
  const ref = flat('ModelAPI/', namespace, '/', api.metadata.name);
  const { spec } = api;
  const prefix = pathPrefixOf(api);
  const hostnames = exact((spec.hostnames ?? []).map((h) => h.toLowerCase()));
  const timeouts = resolveTimeouts(spec.timeouts, defaults);
  const retry = canonical(resolveRetries(spec.retries, defaults, spec.protocol));
  const passive = canonical(resolvePassive(spec.healthCheck, defaults));
  const active = spec.healthCheck?.active ?? defaults?.healthCheck?.active;
  const maxRequestBodyBytes = spec.maxRequestBodyBytes ?? defaults?.maxRequestBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const weights = effectiveWeights(api);
  const { requestMs, backendRequestMs, idleMs } = timeouts;
  const forward = {
    timeouts: canonical({ requestMs, backendRequestMs, idleMs }),
    retry,
    maxRequestBodyBytes,
    ...(PROTOCOLS[spec.protocol].metersTokens ? { meterTokens: true } : {}),
  };

  const conditions: ConditionInput[] = [];
  const clusters: Cluster[] = [];
  const rules: RouteRule[] = [];
  const refProblems: string[] = [];
  let refReason = 'ResolvedRefs';
  const notReady: string[] = [];

  const duplicate = spec.versions.map((v) => v.name).find((n, i, all) => all.indexOf(n) !== i);
  if (duplicate !== undefined) {
    conditions.push(condition('Accepted', 'False', 'Invalid', `version ${duplicate} is declared twice`));
    conditions.push(condition('Ready', 'False', 'Invalid', 'not accepted'));
    return { ref, clusters, rules, summary: summaryOf(api, ref, prefix, hostnames, []), conditions, statusFields: {} };
  }

  const unversioned: RouteBackend[][] = [];
  const versionsStatus: Record<string, unknown>[] = [];
  const summaryVersions: ApiSummary['versions'][number][] = [];
  spec.versions.forEach((version, i) => {
    const model: UpstreamModel = {
      modelName: version.modelName ?? api.metadata.name,
      modelVersion: version.modelVersion,
    };
    const clusterName = `${namespace}/${api.metadata.name}/${version.name}`;
    const resolved = resolveBackend(version.backend, namespace, index);
    if (!resolved.ok) {
      if (refProblems.length === 0) refReason = resolved.reason; // the first problem names the reason
      refProblems.push(`version ${version.name}: ${resolved.message}`);
    }
    if (version.successor && !spec.versions.some((v) => v.name === version.successor)) {
      if (refProblems.length === 0) refReason = 'SuccessorNotFound';
      refProblems.push(`version ${version.name}: successor ${version.successor} is not a version of this API`);
    }
    const upstreamTls = resolveUpstreamTls(version.backend, namespace, index);
    if (upstreamTls.problem) {
      if (refProblems.length === 0) refReason = 'InvalidBackendTLS';
      refProblems.push(`version ${version.name}: ${upstreamTls.problem}`);
    }
    const headers = versionHeaders(version, namespace, index);
    if (headers.problem) {
      if (refProblems.length === 0) refReason = 'SecretNotFound';
      refProblems.push(`version ${version.name}: ${headers.problem}`);
    }
    // Without its TLS material a backend is not reachable at all (never with weaker settings).
    const endpoints = resolved.ok && !upstreamTls.problem ? resolved.endpoints : [];
    const readyCount = endpoints.filter((e) => e.ready).length;
    if (readyCount === 0) notReady.push(version.name);
    const readyPath = active?.path ?? PROTOCOLS[spec.protocol].readyPath(model);
    const body: Omit<Cluster, 'name'> = {
      protocol: spec.protocol,
      basePath: resolved.ok ? resolved.basePath : '',
      ...(resolved.ok && resolved.hostHeader !== undefined ? { hostHeader: resolved.hostHeader } : {}),
      ...(upstreamTls.tls && Object.keys(upstreamTls.tls).length > 0 ? { tls: upstreamTls.tls } : {}),
      ...(headers.backend.filters?.requestHeaders
        ? { requestHeaders: headers.backend.filters.requestHeaders.set }
        : {}),
      endpoints,
      ...resolveLoadBalancer(version.loadBalancer, spec.loadBalancer),
      connectTimeoutMs: timeouts.connectMs,
      ...(active?.enabled !== false && readyPath !== undefined
        ? {
            activeHealthCheck: canonical({
              path: (resolved.ok ? resolved.basePath : '') + readyPath,
              intervalMs: durationMs(active?.interval) ?? 5000,
              timeoutMs: durationMs(active?.timeout) ?? 1000,
              healthyThreshold: active?.healthyThreshold ?? 1,
              unhealthyThreshold: active?.unhealthyThreshold ?? 2,
            }),
          }
        : {}),
      passiveHealthCheck: passive,
    };
    clusters.push({ name: clusterName, ...body });

    const versionPrefix = flat(prefix, '/versions/', version.name);
    const deprecation = version.deprecated
      ? versionDeprecation(
          version,
          `${publicURL}${docsPrefix}/changelog/${namespace}/${api.metadata.name}`,
          (v) => `${publicURL}${prefix}/versions/${v}`,
        )
      : undefined;
    PROTOCOLS[spec.protocol].routes(versionPrefix, model).forEach((r, m) => {
      rules.push({
        id: flat(ref, '#versions/', version.name, m === 0 ? '' : `/${m}`),
        source: ref,
        hostnames,
        matches: [r.match],
        action: {
          type: 'Forward',
          backends: [
            {
              cluster: clusterName,
              weight: 1,
              version: version.name,
              rewrite: canonical(r.rewrite),
              ...(deprecation ? { deprecation } : {}),
              ...headers.backend,
            },
          ],
          ...forward,
        },
        labels: { api: ref, version: version.name },
      });
    });
    // Per-match backends for the unversioned rules: one list per protocol route.
    PROTOCOLS[spec.protocol].routes(prefix, model).forEach((r, m) => {
      const list = unversioned[m] ?? [];
      unversioned[m] = list;
      list.push({
        cluster: clusterName,
        weight: weights[i]!,
        version: version.name,
        rewrite: canonical(r.rewrite),
        ...(deprecation ? { deprecation } : {}),
        ...headers.backend,
      });
    });
    versionsStatus.push({
      name: version.name,
      url: flat(publicURL, versionPrefix),
      weight: weights[i]!,
      endpoints: readyCount,
    });
    summaryVersions.push({
      name: version.name,
      weight: weights[i]!,
      path: versionPrefix,
      cluster: clusterName,
      modelName: model.modelName,
    });
  });

  // The unversioned path: one rule per protocol route, each splitting traffic by weight and honouring the pin header.
  const firstModel: UpstreamModel = { modelName: spec.versions[0]!.modelName ?? api.metadata.name };
  const versionIndex = Object.fromEntries(spec.versions.map((v, i) => [v.name, i]));
  PROTOCOLS[spec.protocol].routes(prefix, firstModel).forEach((r, m) => {
    rules.push({
      id: m === 0 ? ref : `${ref}#${m}`,
      source: ref,
      hostnames,
      matches: [r.match],
      action: {
        type: 'Forward',
        backends: exact(unversioned[m]!),
        versionPin: canonical({
          header: (spec.versionHeader ?? DEFAULT_VERSION_HEADER).toLowerCase(),
          versions: versionIndex,
        }),
        ...forward,
      },
      labels: { api: ref, version: '' },
    });
  });
  conditions.push(
    condition(
      'Accepted',
      'True',
      'Accepted',
      flat('serving ', String(spec.versions.length), ' version(s) at ', prefix),
    ),
  );
  conditions.push(
    refProblems.length === 0 ? ALL_RESOLVED : condition('ResolvedRefs', 'False', refReason, refProblems.join('; ')),
  );
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  if (totalWeight === 0)
    conditions.push(condition('Ready', 'False', 'NoWeight', 'every version has weight 0; only versioned paths answer'));
  else if (notReady.length > 0) {
    conditions.push(
      condition('Ready', 'False', 'NoReadyEndpoints', `no ready endpoints for version(s) ${notReady.join(', ')}`),
    );
  } else conditions.push(ALL_READY);

  // Kept as long as the API is unchanged (reused across reloads): no spare capacity (see compact.ts).
  return {
    ref,
    clusters: exact(clusters),
    rules: exact(rules),
    summary: summaryOf(api, ref, prefix, hostnames, exact(summaryVersions)),
    conditions: exact(conditions),
    statusFields: { url: flat(publicURL, prefix), versions: exact(versionsStatus) },
  };
}

function summaryOf(
  api: ModelAPI,
  ref: string,
  pathPrefix: string,
  hostnames: string[],
  versions: ApiSummary['versions'],
): ApiSummary {
  return {
    ref,
    name: api.metadata.name,
    namespace: api.metadata.namespace ?? 'default',
    protocol: api.spec.protocol,
    pathPrefix,
    hostnames,
    versions,
  };
}

/** What the answers of a deprecated version announce (dates as RFC 3339 in the resource, epoch here). */
function versionDeprecation(
  version: ModelVersion,
  changelog: string,
  versionURL: (name: string) => string,
): VersionDeprecation {
  const at = version.deprecatedAt ? Date.parse(version.deprecatedAt) : Number.NaN;
  const sunset = version.sunset ? Date.parse(version.sunset) : Number.NaN;
  return {
    ...(Number.isFinite(at) ? { at: Math.floor(at / 1000) } : {}),
    ...(Number.isFinite(sunset) ? { sunsetMs: sunset } : {}),
    ...(version.successor ? { successor: { version: version.successor, url: versionURL(version.successor) } } : {}),
    link: changelog,
    afterSunset: version.afterSunset ?? 'Gone',
  };
}

/**
 * The headers a version sets on its requests (`requestHeaders.set`, and every entry of `requestHeaders.secret`), as a
 * backend filter. A missing Secret is a problem, and the version's requests are refused (500, saying why) rather than
 * sent without the credentials they need.
 */
function versionHeaders(
  version: ModelVersion,
  namespace: string,
  index: BackendIndex,
): { backend: Partial<RouteBackend>; problem?: string } {
  const spec = version.requestHeaders;
  if (!spec) return { backend: {} };
  const set: [string, string][] = Object.entries(spec.set ?? {}).map(([n, v]) => [n.toLowerCase(), v]);
  if (spec.secret) {
    const key = `${spec.secret.namespace ?? namespace}/${spec.secret.name}`;
    const secret = index.secrets.get(key);
    if (!secret) {
      const problem = `Secret/${key} with its upstream headers not found`;
      return { backend: { invalid: `the upstream credentials of this version are missing (${problem})` }, problem };
    }
    for (const name of new Set([...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})])) {
      const value = secretEntry(secret, name);
      if (value !== undefined) set.push([name.toLowerCase(), value.replace(/[\r\n]+$/, '')]);
    }
  }
  return set.length > 0 ? { backend: { filters: { requestHeaders: { set, add: [], remove: [] } } } } : { backend: {} };
}
