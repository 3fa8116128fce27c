/**
 * Decides where one ModelAPI version's API description comes from, in the order of precedence the product promises:
 *  a. an inline document or a ConfigMap in the resource;
 *  b. the upstream's own document (a configured path or URL; `/openapi.json` for discovered `openapi` APIs);
 *  c. synthesis from protocol metadata (V2 `GET /v2/models/{m}`, which also types KServe V1; OpenAI `GET /v1/models`);
 *  d. the generic protocol document.
 * A failing source falls through to the next and the reason is kept for the `Documented` condition. Pure: what must
 * be fetched is returned as tasks, what was fetched is read from `Discovered`.
 */
import { parse as parseYaml } from 'yaml';
import { durationMs } from '../../common/durations.ts';
import { normalizeTo31 } from '../../openapi/normalize-31.ts';
import { canonicalJson, isObject } from '../../openapi/openapi-walk.ts';
import type { MLRunModelMetadata } from '../../protocols/mlrun/document.ts';
import type { V2ModelMetadata } from '../../protocols/open-inference-v2/schema.ts';
import { PROTOCOLS } from '../../protocols/table.ts';
import type { ConfigMap } from '../../schema/core.ts';
import {
  type DocsProvenance,
  type ModelAPI,
  type ModelVersion,
  OPTIONAL_ENDPOINTS,
  type Protocol,
} from '../../schema/model-api.ts';
import { type Discovered, type DocsTask, type FetchTask, fetchKey, sha256 } from '../../snapshot/discovery.ts';
import { rebaseDocument } from './rebase.ts';

type Json = Record<string, unknown>;

/** Default refresh interval of fetched documents. */
export const DEFAULT_REFRESH_MS = 5 * 60_000;

/** The state of a version's documentation, as the `Documented` condition reports it. */
export interface DocumentedState {
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** What a version is documented from. */
export interface ResolvedSource {
  readonly protocol: Protocol;
  /** An upstream/inline document (normalised to 3.1, upstream paths), when that is the source. */
  readonly document?: Json;
  readonly metadata?: V2ModelMetadata;
  readonly mlrun?: MLRunModelMetadata;
  readonly models?: readonly string[];
  readonly provenance: DocsProvenance;
  readonly documented: DocumentedState;
  readonly tasks: readonly DocsTask[];
}

/** Everything the resolution needs. */
export interface VersionSourceInput {
  readonly api: ModelAPI;
  readonly version: ModelVersion;
  /** Name of the version's cluster in the snapshot (whose endpoints are asked). */
  readonly cluster: string;
  readonly configMaps: readonly ConfigMap[];
  readonly discovered: Discovered;
}

/** Resolves the source of one version. */
export function resolveVersionSource(input: VersionSourceInput): ResolvedSource {
  const { api, version, discovered } = input;
  const protocol = api.spec.protocol;
  const definition = PROTOCOLS[protocol];
  const config = version.docs?.openAPI ?? api.spec.docs?.openAPI;
  const discover = api.spec.docs?.discover === true;
  const refreshMs = durationMs(api.spec.docs?.refreshInterval) ?? DEFAULT_REFRESH_MS;
  const tasks: DocsTask[] = [];
  const failures: string[] = [];
  let pending = false;
  const modelName = version.modelName ?? api.metadata.name;

  // a. in the resource
  if (config?.inline || config?.configMapRef) {
    const given = config.inline
      ? { body: config.inline as unknown, raw: canonicalJson(config.inline), location: 'inline' }
      : readConfigMap(input.configMaps, api.metadata.namespace ?? 'default', config.configMapRef!);
    if ('error' in given) failures.push(given.error);
    else {
      const source = config.inline ? 'inline' : 'configMap';
      const prepared = prepareDocument(given.body, given.raw, discovered, tasks);
      if (prepared.state === 'ok') {
        return {
          protocol,
          document: prepared.document,
          provenance: { source, location: given.location, sha256: sha256(given.raw), openapiVersion: prepared.version },
          documented: { status: 'True', reason: 'Documented', message: `${source} document` },
          tasks,
        };
      }
      if (prepared.state === 'pending') pending = true;
      else failures.push(`${given.location}: ${prepared.error}`);
    }
  }

  // b. the upstream's own document: the configured one, or where the protocol's servers publish theirs (first found)
  const configured = config?.url ?? config?.path;
  const places = configured !== undefined ? [configured] : discover ? (definition.discoveredDocumentPaths ?? []) : [];
  for (const where of places) {
    const method = config?.method ?? 'GET';
    const task: FetchTask = config?.url
      ? { kind: 'openapi', key: fetchKey('openapi', method, config.url), method, url: config.url, refreshMs }
      : {
          kind: 'openapi',
          key: fetchKey('openapi', method, `${input.cluster}${where}`),
          method,
          cluster: input.cluster,
          path: where,
          refreshMs,
        };
    tasks.push(task);
    const result = discovered.get(task.key);
    if (result?.last) {
      // Normalised by the document worker already: used as it is (no second pass over a large document here).
      const last = result.last;
      const prepared: Prepared = last.normalized
        ? last.normalizeErrors?.length
          ? { state: 'error', error: last.normalizeErrors.slice(0, 3).join('; ') }
          : { state: 'ok', document: last.body as Json, version: String(last.originalVersion ?? '3.1.0') }
        : prepareDocument(last.body, undefined, discovered, tasks);
      if (prepared.state === 'ok') {
        return {
          protocol,
          document: prepared.document,
          provenance: provenanceOf('upstream', result.last, result.last.originalVersion ?? prepared.version),
          documented: fetchedState(`upstream document ${result.last.location}`, result.error),
          tasks,
        };
      }
      failures.push(`${result.last.location}: ${prepared.state === 'error' ? prepared.error : 'not converted yet'}`);
    } else if (result?.error) failures.push(`${method} ${where}: ${result.error}`);
    else pending = true;
  }

  // c. protocol metadata
  const metadata = definition.metadata;
  if (discover && metadata) {
    const path = metadata.path({ modelName, modelVersion: version.modelVersion });
    const kind = metadata.kind;
    const task: FetchTask = {
      kind,
      key: fetchKey(kind, 'GET', `${input.cluster}${path}`),
      method: 'GET',
      cluster: input.cluster,
      path,
      refreshMs,
    };
    tasks.push(task);
    const result = discovered.get(task.key);
    if (result?.last) {
      const found = metadata.read(result.last.body);
      if (found.ok) {
        let description = found.value;
        let refinedBy = '';
        // A refining answer (Triton's model configuration) when the first says it can matter; until it comes, or
        // when the server has none, the metadata is used alone.
        const supplement = metadata.supplement;
        if (supplement?.wanted(description)) {
          const more = supplement.path({ modelName, modelVersion: version.modelVersion });
          const extra: FetchTask = {
            kind: supplement.kind,
            key: fetchKey(supplement.kind, 'GET', `${input.cluster}${more}`),
            method: 'GET',
            cluster: input.cluster,
            path: more,
            refreshMs,
          };
          tasks.push(extra);
          const answer = discovered.get(extra.key)?.last;
          if (answer) {
            const merged = supplement.merge(description, answer.body);
            if (merged !== description) refinedBy = ` and ${answer.location}`;
            description = merged;
          }
        }
        return {
          protocol,
          ...description,
          provenance: provenanceOf('metadata', result.last),
          documented: fetchedState(`synthesized from ${result.last.location}${refinedBy}`, result.error),
          tasks,
        };
      }
      failures.push(`${result.last.location}: ${found.error}`);
    } else if (result?.error) failures.push(`GET ${path}: ${result.error}`);
    else pending = true;
  }

  // d. generic
  const provenance: DocsProvenance = { source: 'generic' };
  if (failures.length > 0)
    return {
      protocol,
      provenance,
      documented: {
        status: 'False',
        reason: 'DiscoveryFailed',
        message: `${failures.join('; ')}; serving the generic document`,
      },
      tasks,
    };
  if (pending)
    return {
      protocol,
      provenance,
      documented: { status: 'Unknown', reason: 'Pending', message: 'waiting for the API description' },
      tasks,
    };
  if (!definition.genericDescribes)
    return {
      protocol,
      provenance,
      documented: {
        status: 'False',
        reason: 'NoDescription',
        message: 'no API description: set spec.docs.openAPI, or spec.docs.discover to fetch /openapi.json',
      },
      tasks,
    };
  return {
    protocol,
    provenance,
    documented: {
      status: 'True',
      reason: 'GenericSchema',
      message: 'generic protocol document; set spec.docs.discover: true for schemas typed from model metadata',
    },
    tasks,
  };
}

/** What a version's document is about, for rendering. */
export interface RenderInput {
  readonly title: string;
  readonly version: string;
  readonly basePath: string;
  readonly modelName: string;
  readonly modelVersion?: string | undefined;
  /** `spec.docs.endpoints`: the optional endpoints the server serves (synthesized documents only). */
  readonly endpoints?: readonly string[] | undefined;
}

/** The version's document in public paths under `basePath`, and upstream paths the gateway does not route. */
export function renderVersionDocument(
  source: ResolvedSource,
  input: RenderInput,
): { document: Json; dropped: readonly string[] } {
  const info = { title: input.title, version: input.version, basePath: input.basePath };
  if (source.document) {
    return rebaseDocument(source.document, {
      protocol: source.protocol,
      modelName: input.modelName,
      modelVersion: input.modelVersion,
      basePath: input.basePath,
    });
  }
  const document = PROTOCOLS[source.protocol].synthesize({
    ...info,
    endpoints: input.endpoints ?? OPTIONAL_ENDPOINTS[source.protocol]?.byDefault ?? [],
    ...(source.metadata ? { metadata: source.metadata } : {}),
    ...(source.mlrun ? { mlrun: source.mlrun } : {}),
    ...(source.models ? { models: source.models } : {}),
  });
  return { document, dropped: [] };
}

/** A document ready to rebase, pending conversion, or unusable (with why). */
export type Prepared =
  | { state: 'ok'; document: Json; version: string }
  | { state: 'pending' }
  | { state: 'error'; error: string };

/** Checks and normalises a document; Swagger 2.0 goes through the fetcher's converter first. */
export function prepareDocument(
  body: unknown,
  raw: string | undefined,
  discovered: Discovered,
  tasks: DocsTask[],
): Prepared {
  if (!isObject(body)) return { state: 'error', error: 'not a JSON or YAML object' };
  let document = body;
  let version = String(body.openapi ?? body.swagger ?? '');
  if (body.swagger !== undefined) {
    if (String(body.swagger) !== '2.0') return { state: 'error', error: `unsupported Swagger version ${version}` };
    const key = `convert ${sha256(raw ?? canonicalJson(body))}`;
    tasks.push({ kind: 'convert', key, document: body });
    const converted = discovered.get(key);
    if (converted?.error) return { state: 'error', error: `Swagger 2.0 conversion failed: ${converted.error}` };
    if (!isObject(converted?.last?.body)) return { state: 'pending' };
    document = converted.last.body;
    version = '2.0';
  }
  const normalized = normalizeTo31(document);
  if (normalized.errors.length > 0) return { state: 'error', error: normalized.errors.slice(0, 3).join('; ') };
  return { state: 'ok', document: normalized.document, version };
}

function readConfigMap(
  configMaps: readonly ConfigMap[],
  namespace: string,
  ref: { name: string; key?: string | undefined },
): { body: unknown; raw: string; location: string } | { error: string } {
  const key = ref.key ?? 'openapi.json';
  const location = `ConfigMap/${namespace}/${ref.name}[${key}]`;
  const cm = configMaps.find((c) => c.metadata.name === ref.name && (c.metadata.namespace ?? 'default') === namespace);
  if (!cm) return { error: `ConfigMap ${namespace}/${ref.name} not found` };
  const raw =
    cm.data?.[key] ?? (cm.binaryData?.[key] ? Buffer.from(cm.binaryData[key], 'base64').toString('utf8') : undefined);
  if (raw === undefined) return { error: `${location}: no such key` };
  try {
    return { body: parseYaml(raw), raw, location };
  } catch (err) {
    return { error: `${location}: ${(err as Error).message.split('\n')[0]}` };
  }
}

function provenanceOf(
  source: DocsProvenance['source'],
  doc: { location: string; fetchedAt: string; etag?: string; sha256: string },
  openapiVersion?: string,
): DocsProvenance {
  return {
    source,
    location: doc.location,
    fetchedAt: doc.fetchedAt,
    ...(doc.etag ? { etag: doc.etag } : {}),
    sha256: doc.sha256,
    ...(openapiVersion ? { openapiVersion } : {}),
  };
}

function fetchedState(what: string, lastError: string | undefined): DocumentedState {
  return lastError
    ? {
        status: 'True',
        reason: 'Stale',
        message: `${what}; the last refresh failed (${lastError}), the last good copy is kept`,
      }
    : { status: 'True', reason: 'Documented', message: what };
}
