/**
 * The docs pass of the compiler: for every served ModelAPI, resolve each version's description (version-source.ts)
 * and render it under the public paths as merge parts, plus the `Documented` condition, the provenance and the merge
 * report (which operations another API claims) for status. The documents themselves — everything, one per API, one
 * per version — are merged from the parts when first asked for (published.ts), so a compile of thousands of APIs
 * stays cheap. Pure.
 */

import { claimOperations, type MergePart, type MergeReport } from '../../openapi/merge.ts';
import { isObject } from '../../openapi/openapi-walk.ts';
import { PROTOCOLS } from '../../protocols/table.ts';
import { exact, flat, sameItems } from '../../resources/compact.ts';
import { type ConditionInput, condition } from '../../resources/status.ts';
import type { ConfigMap } from '../../schema/core.ts';
import type { ModelAPI } from '../../schema/model-api.ts';
import { type Discovered, type DocsTask, type FetchTask, fetchKey } from '../../snapshot/discovery.ts';
import { mergeOrder } from '../../snapshot/merge-order.ts';
import type { ApiSummary, DocsPlane, PublishedApi } from '../../snapshot/types.ts';
import type { RouteDocTarget } from '../compile-httproutes.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../defaults.ts';
import { rebaseBy, routePublicPath } from './rebase.ts';
import {
  DEFAULT_REFRESH_MS,
  type DocumentedState,
  prepareDocument,
  type ResolvedSource,
  renderVersionDocument,
  resolveVersionSource,
} from './version-source.ts';

type Json = Record<string, unknown>;

/** One served ModelAPI, as the compiler accepted it. */
export interface ServedApi {
  readonly api: ModelAPI;
  readonly summary: ApiSummary;
  readonly maxRequestBodyBytes: number;
  readonly versionHeader: string;
}

/** Gateway-wide inputs. */
export interface DocsSettings {
  readonly publicURL: string;
  readonly pathPrefix: string;
  readonly rootLanding: boolean;
  /** `components.securitySchemes` of the gateway's authentication providers. */
  readonly securitySchemes?: Json;
  readonly title: string;
  readonly description: string;
  readonly contact?: Json;
  /** Sources the `breakingChanges: Refuse` policy holds back (see CompileOptions.heldSources). */
  readonly heldSources?: ReadonlyMap<string, ResolvedSource>;
}

/** What the docs pass adds to a ModelAPI's status. */
export interface DocsStatus {
  readonly condition: ConditionInput;
  /** Provenance per version name. */
  readonly versions: Readonly<Record<string, Json>>;
  readonly docs: Json;
}

/** The docs pass's output. */
export interface DocsBuild {
  readonly plane: DocsPlane;
  readonly statuses: ReadonlyMap<string, DocsStatus>;
}

/** Runs the docs pass. */
export function buildDocs(
  served: readonly ServedApi[],
  configMaps: readonly ConfigMap[],
  discovered: Discovered,
  settings: DocsSettings,
  routeDocs: readonly RouteDocTarget[] = [],
  /** Earlier docs to reuse (the compile's reuse object); a fresh map reuses nothing. */
  documentedApis: DocumentedApis = new WeakMap(),
): DocsBuild {
  const tasks = new Map<string, DocsTask>();
  const statuses = new Map<string, DocsStatus>();
  const apis: PublishedApi[] = [];
  // Gateway-wide settings every API's document depends on, as one comparable value.
  const settingsKey = JSON.stringify([settings.publicURL, settings.pathPrefix, settings.securitySchemes ?? null]);
  const tagNames = new Map<string, number>();
  for (const { api } of served) {
    const title = api.spec.docs?.title ?? api.metadata.name;
    tagNames.set(title, (tagNames.get(title) ?? 0) + 1);
  }

  for (const entry of served) {
    const titleBase = entry.api.spec.docs?.title ?? entry.api.metadata.name;
    const tagName = (tagNames.get(titleBase) ?? 0) > 1 ? `${entry.summary.namespace}/${titleBase}` : titleBase;
    const built = documentApiReusing(documentedApis, entry, tagName, configMaps, discovered, settings, settingsKey);
    for (const t of built.tasks) tasks.set(t.key, t);
    apis.push(built.published);
    statuses.set(entry.summary.ref, built.status);
  }

  const routeParts = routeDocs.flatMap((target) => {
    const built = routeDocumentPart(target, discovered, tasks);
    const previous = statuses.get(target.route);
    // A route with several documented Services: the worst state wins, messages add up.
    const worse = !previous || rankOf(built.documented.status) < rankOf(previous.condition.status);
    statuses.set(target.route, {
      condition: worse
        ? condition('Documented', built.documented.status, built.documented.reason, built.documented.message)
        : previous.condition,
      versions: {},
      docs: {},
    });
    return built.part ? [built.part] : [];
  });

  const plane: DocsPlane = {
    pathPrefix: settings.pathPrefix,
    rootLanding: settings.rootLanding,
    ...(settings.securitySchemes ? { securitySchemes: settings.securitySchemes } : {}),
    title: settings.title,
    description: settings.description,
    ...(settings.contact ? { contact: settings.contact } : {}),
    publicURL: settings.publicURL,
    tasks: [...tasks.values()].sort((a, b) => a.key.localeCompare(b.key)),
    apis,
    routeParts,
  };
  // Only the claims are worked out here (cheap); the documents are merged when first asked for (published.ts).
  const claims = claimOperations(mergeOrder(plane));
  const prefixes = new Map(served.map((s) => [s.summary.ref, s.summary.pathPrefix.length]));
  reportOnStatuses({ conflicts: claims.conflicts, renames: claims.renames }, statuses, prefixes);
  return { plane, statuses };
}

/** One ModelAPI's share of the docs pass. */
export interface ApiDocs {
  readonly published: PublishedApi;
  readonly status: DocsStatus;
  /** Discovery tasks its versions need (fetches of descriptions and their references). */
  readonly tasks: readonly DocsTask[];
}

/**
 * The previous docs of a ModelAPI, reused while nothing they are made of changed: the same resource object and
 * summary (the compiler reuses those for an unchanged API), tag, limits, gateway settings, held sources, the same
 * ConfigMap objects it reads and the same discovery results for every task it had. Most of a reload's allocation
 * for ten thousand APIs was re-rendering documents that did not change. Results are immutable; weak keys.
 */
export type DocumentedApis = WeakMap<
  ModelAPI,
  { deps: readonly unknown[]; discovered: readonly unknown[]; result: ApiDocs }
>;

const depsScratch: unknown[] = [];

function documentApiReusing(
  documentedApis: DocumentedApis,
  entry: ServedApi,
  tagName: string,
  configMaps: readonly ConfigMap[],
  discovered: Discovered,
  settings: DocsSettings,
  settingsKey: string,
): ApiDocs {
  const { api, summary } = entry;
  // Gathered in one scratch list (no allocation per API per reload); a copy is kept only when it is stored.
  const deps = depsScratch;
  deps.length = 0;
  deps.push(summary, tagName, entry.maxRequestBodyBytes, entry.versionHeader, settingsKey);
  const namespace = api.metadata.namespace ?? 'default';
  for (const version of api.spec.versions) {
    const ref = (version.docs?.openAPI ?? api.spec.docs?.openAPI)?.configMapRef;
    if (ref)
      deps.push(
        configMaps.find((c) => c.metadata.name === ref.name && (c.metadata.namespace ?? 'default') === namespace),
      );
    deps.push(settings.heldSources?.get(`${summary.ref}\0${version.name}`));
  }
  const cached = documentedApis.get(api);
  if (
    cached &&
    sameItems(cached.deps, deps) &&
    cached.result.tasks.every((t, i) => discovered.get(t.key) === cached.discovered[i])
  )
    return cached.result;
  const result = documentApi(entry, tagName, configMaps, discovered, settings);
  documentedApis.set(api, { deps: exact(deps), discovered: result.tasks.map((t) => discovered.get(t.key)), result });
  return result;
}

/** Resolves, renders and reports one ModelAPI's versions. */
function documentApi(
  entry: ServedApi,
  tagName: string,
  configMaps: readonly ConfigMap[],
  discovered: Discovered,
  settings: DocsSettings,
): ApiDocs {
  const { api, summary } = entry;
  const hidden = api.spec.docs?.hidden === true;
  const titleBase = api.spec.docs?.title ?? api.metadata.name;
  const tasks: DocsTask[] = [];
  const resolved = new Map<string, ResolvedSource>();
  const refuse = api.spec.docs?.breakingChanges === 'Refuse';
  /** Fresh sources of held versions: rendered as their candidates. */
  const candidates = new Map<string, ResolvedSource>();
  for (const [i, version] of api.spec.versions.entries()) {
    const source = resolveVersionSource({
      api,
      version,
      cluster: summary.versions[i]!.cluster,
      configMaps,
      discovered,
    });
    const held = refuse ? settings.heldSources?.get(`${summary.ref}\0${version.name}`) : undefined;
    if (held) candidates.set(version.name, source);
    // A held version keeps its accepted document but the fresh tasks, so its source is still watched.
    resolved.set(version.name, held ? { ...held, tasks: source.tasks } : source);
    tasks.push(...source.tasks);
  }
  const multi = summary.versions.length > 1;
  const primary = primaryVersion(summary);
  const upstream = upstreamInfo(primary ? resolved.get(primary) : undefined);
  // One tag object for all parts of the API (thousands of APIs would otherwise hold a copy per part).
  const tag = {
    name: tagName,
    description: tagDescription(api, summary, upstream),
    ...(upstream ? { upstreamInfo: upstream } : {}),
  };
  const partOf = (versionName: string, versioned: boolean): MergePart => {
    const version = api.spec.versions.find((v) => v.name === versionName)!;
    const sv = summary.versions.find((v) => v.name === versionName)!;
    const basePath = versioned ? sv.path : summary.pathPrefix;
    const { document } = renderVersionDocument(resolved.get(versionName)!, {
      title: titleBase,
      version: versionName,
      basePath,
      modelName: sv.modelName,
      modelVersion: version.modelVersion,
      endpoints: api.spec.docs?.endpoints,
    });
    return {
      ref: summary.ref,
      namespace: summary.namespace,
      name: summary.name,
      version: versionName,
      versioned,
      tag,
      group: PROTOCOLS[summary.protocol].group,
      document,
      hostnames: summary.hostnames,
      ...(!versioned && multi
        ? { versionPin: { header: entry.versionHeader, versions: summary.versions.map((v) => v.name) } }
        : {}),
      maxRequestBodyBytes: entry.maxRequestBodyBytes,
      ...(documentedSecurity(api, settings.securitySchemes) ?? {}),
      ...(version.requestHeaders?.secret ? { upstreamCredentials: true } : {}),
      ...(api.spec.rateLimit || api.spec.tokenLimit ? { rateLimited: true } : {}),
      ...(api.spec.validation ? { validated: true } : {}),
      ...(api.spec.cache ? { cached: true } : {}),
      // Deprecation belongs to the version's own paths; the unversioned ones move on to the next version.
      ...(version.deprecated && versioned ? { deprecation: version.sunset ? { sunset: version.sunset } : {} } : {}),
    };
  };
  // The unversioned paths are documented from the version most unpinned traffic reaches; the versioned paths of
  // every version follow when there is more than one (a single version's are in its own document).
  const apiParts = [
    ...(primary ? [partOf(primary, false)] : []),
    ...(multi || !primary ? summary.versions.map((v) => partOf(v.name, true)) : []),
  ];
  const documented = combineDocumented(resolved);
  const docPath = `${settings.pathPrefix}/openapi/${summary.namespace}/${summary.name}.json`;
  const published: PublishedApi = {
    ref: summary.ref,
    namespace: summary.namespace,
    name: summary.name,
    title: titleBase,
    tag: tagName,
    protocol: summary.protocol,
    pathPrefix: summary.pathPrefix,
    hidden,
    description: api.spec.docs?.description ?? upstreamDescription(upstream) ?? '',
    ...(upstream ? { upstreamInfo: upstream } : {}),
    documented,
    versions: summary.versions.map((v, i) => ({
      name: v.name,
      weight: v.weight,
      path: v.path,
      cluster: v.cluster,
      source: resolved.get(v.name)!.provenance.source,
      deprecated: api.spec.versions[i]?.deprecated === true,
      ...(api.spec.versions[i]?.sunset ? { sunset: api.spec.versions[i]!.sunset! } : {}),
      ...(api.spec.versions[i]?.successor ? { successor: api.spec.versions[i]!.successor! } : {}),
      part: multi || !primary ? apiParts.find((p) => p.versioned && p.version === v.name)! : partOf(v.name, true),
      ...(refuse ? { origin: resolved.get(v.name)! } : {}),
      ...(candidates.has(v.name)
        ? {
            candidate: renderVersionDocument(candidates.get(v.name)!, {
              title: titleBase,
              version: v.name,
              basePath: v.path,
              modelName: v.modelName,
              modelVersion: api.spec.versions[i]?.modelVersion,
              endpoints: api.spec.docs?.endpoints,
            }).document,
          }
        : {}),
    })),
    parts: apiParts,
  };
  const status: DocsStatus = {
    condition: condition('Documented', documented.status, documented.reason, documented.message),
    versions: Object.fromEntries([...resolved].map(([name, s]) => [name, s.provenance as Json])),
    docs: { url: flat(settings.publicURL, docPath) },
  };
  return { published, status, tasks };
}

/** The security requirement of an API's operations: its providers that have an OpenAPI scheme. */
export function documentedSecurity(
  api: ModelAPI,
  schemes: Json | undefined,
): { security: Record<string, string[]>[] } | undefined {
  const names = (api.spec.auth?.providers ?? []).filter((p) => schemes?.[p] !== undefined);
  return names.length > 0 ? { security: names.map((p) => ({ [p]: [] })) } : undefined;
}

function rankOf(status: string): number {
  return status === 'False' ? 0 : status === 'Unknown' ? 1 : 2;
}

/** The merge part of a documented Service behind an HTTPRoute, under the route's public paths. */
function routeDocumentPart(
  target: RouteDocTarget,
  discovered: Discovered,
  tasks: Map<string, DocsTask>,
): { part?: MergePart; documented: DocumentedState } {
  const task: FetchTask = {
    kind: 'openapi',
    key: fetchKey('openapi', 'GET', `${target.cluster}${target.openapiPath}`),
    method: 'GET',
    cluster: target.cluster,
    path: target.openapiPath,
    refreshMs: DEFAULT_REFRESH_MS,
  };
  tasks.set(task.key, task);
  const result = discovered.get(task.key);
  const where = `Service ${target.service} ${target.openapiPath}`;
  if (!result?.last) {
    return result?.error
      ? { documented: { status: 'False', reason: 'DiscoveryFailed', message: `${where}: ${result.error}` } }
      : { documented: { status: 'Unknown', reason: 'Pending', message: `waiting for ${where}` } };
  }
  const more: DocsTask[] = [];
  const prepared = prepareDocument(result.last.body, undefined, discovered, more);
  for (const t of more) tasks.set(t.key, t);
  if (prepared.state !== 'ok')
    return {
      documented: {
        status: prepared.state === 'pending' ? 'Unknown' : 'False',
        reason: prepared.state === 'pending' ? 'Pending' : 'InvalidDocument',
        message: `${where}: ${prepared.state === 'error' ? prepared.error : 'being converted'}`,
      },
    };
  const { document } = rebaseBy(prepared.document, (u) => routePublicPath(target.matches, u));
  const serviceName = target.service.slice(target.service.indexOf('/') + 1);
  return {
    part: {
      ref: target.route,
      namespace: target.namespace,
      name: target.name,
      version: serviceName,
      versioned: false,
      tag: {
        name: `${target.namespace}/${target.name}`,
        description: `HTTPRoute ${target.namespace}/${target.name} → Service ${target.service} (its own OpenAPI document).`,
      },
      group: 'HTTPRoutes',
      document,
      hostnames: target.hostnames,
      maxRequestBodyBytes: DEFAULT_MAX_BODY_BYTES,
    },
    documented: { status: 'True', reason: 'Documented', message: `${where} (${result.last.location})` },
  };
}

/** The version with the largest weight (the first on ties), or undefined when all weights are 0. */
function primaryVersion(summary: ApiSummary): string | undefined {
  let best: ApiSummary['versions'][number] | undefined;
  for (const v of summary.versions) if (v.weight > 0 && (!best || v.weight > best.weight)) best = v;
  return best?.name;
}

/**
 * The upstream document's own `info` (title, version, summary, description), kept for consumers: the gateway
 * publishes its own title and a content revision as `info.version`, so the upstream's are told in `x-upstream-info`.
 * Only for documents the upstream (or the ModelAPI inline) wrote; a synthesized document has nothing of its own.
 */
function upstreamInfo(source: ResolvedSource | undefined): Json | undefined {
  const info = source?.document?.info;
  if (!isObject(info)) return undefined;
  const kept = Object.fromEntries(
    ['title', 'version', 'summary', 'description'].flatMap((k) =>
      typeof info[k] === 'string' && info[k] !== '' ? [[k, info[k]]] : [],
    ),
  );
  return Object.keys(kept).length > 0 ? kept : undefined;
}

function upstreamDescription(info: Json | undefined): string | undefined {
  const d = info?.description ?? info?.summary;
  return typeof d === 'string' ? d : undefined;
}

function tagDescription(api: ModelAPI, summary: ApiSummary, upstream: Json | undefined): string {
  const total = summary.versions.reduce((a, v) => a + v.weight, 0);
  const lines = summary.versions.map((v) => {
    const share = total > 0 ? `${Math.round((v.weight / total) * 1000) / 10}% of unpinned traffic` : 'pinned only';
    const description = api.spec.versions.find((x) => x.name === v.name)?.docs?.description;
    return `- \`${v.name}\` at \`${v.path}\` — ${share}${description ? `. ${description}` : ''}`;
  });
  const own = api.spec.docs?.description ?? upstreamDescription(upstream);
  const intro = own ? `${own}\n\n` : '';
  return flat(
    intro,
    PROTOCOLS[summary.protocol].group,
    ' model API at `',
    summary.pathPrefix,
    '`.\n\n',
    lines.join('\n'),
  );
}

/** The worst state of the versions: False over Unknown over True, messages prefixed by version. */
function combineDocumented(resolved: ReadonlyMap<string, ResolvedSource>): DocumentedState {
  const rank = { False: 0, Unknown: 1, True: 2 } as const;
  const entries = [...resolved.entries()];
  const worst = entries.reduce(
    (w, [, s]) => (rank[s.documented.status] < rank[w.status] ? s.documented : w),
    entries[0]![1].documented,
  );
  const message =
    entries.length === 1 ? worst.message : entries.map(([v, s]) => `${v}: ${s.documented.message}`).join('; ');
  return { status: worst.status, reason: worst.reason, message };
}

function reportOnStatuses(
  report: MergeReport,
  statuses: Map<string, DocsStatus>,
  prefixes: ReadonlyMap<string, number>,
): void {
  const conflicts = new Map<string, string[]>();
  const add = (ref: string, line: string) => conflicts.set(ref, [...(conflicts.get(ref) ?? []), line]);
  for (const c of report.conflicts) {
    const op = `${c.method.toUpperCase()} ${c.path}`;
    const why =
      (prefixes.get(c.winner) ?? 0) > (prefixes.get(c.loser) ?? 0)
        ? 'its path prefix is longer, so the gateway routes the request there'
        : 'it is older';
    add(c.loser, `${op} left out: ${c.winner} documents it (${why})`);
    add(c.winner, `${op} also claimed by ${c.loser}`);
  }
  const renames = new Map<string, string[]>();
  for (const r of report.renames) renames.set(r.ref, [...(renames.get(r.ref) ?? []), `${r.kind} ${r.from} → ${r.to}`]);
  for (const [ref, status] of statuses) {
    const c = conflicts.get(ref);
    const r = renames.get(ref);
    if (!c && !r) continue;
    statuses.set(ref, {
      ...status,
      docs: { ...status.docs, ...(c ? { conflicts: c } : {}), ...(r ? { renames: r } : {}) },
      ...(c
        ? {
            condition:
              status.condition.status === 'True'
                ? condition('Documented', 'True', 'MergeConflict', `${status.condition.message}; ${c.join('; ')}`)
                : status.condition,
          }
        : {}),
    });
  }
}
