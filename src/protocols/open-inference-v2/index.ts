/**
 * Open Inference Protocol (V2) — KServe, Triton, MLServer, Seldon Core v2, MLRun: a version's public prefix maps onto
 * `/v2/models/{model}[/versions/{v}]` (`prefix/infer` → `…/infer`); readiness at `…/ready`; metadata at `GET …`
 * types the infer operation exactly; validation checks element counts against shapes; inference calls are retried
 * like idempotent ones.
 */
import { isObject } from '../../openapi/openapi-walk.ts';
import { matchPrefix } from '../path-template.ts';
import type { MetadataSupplement, ProtocolDefinition, UpstreamModel } from '../protocol.ts';
import { v2OpenAPIDocument } from './document.ts';
import type { V2ModelMetadata } from './schema.ts';
import { tensorViolations } from './tensor-rules.ts';

/** `/v2/models/{model}[/versions/{v}]`. */
export function v2ModelPath(m: UpstreamModel): string {
  const name = encodeURIComponent(m.modelName);
  return m.modelVersion ? `/v2/models/${name}/versions/${encodeURIComponent(m.modelVersion)}` : `/v2/models/${name}`;
}

/** Reads V2 metadata; empty metadata (KServe #4537) is an error, so the generic document is used. */
export function readV2Metadata(body: unknown): { ok: true; value: V2ModelMetadata } | { ok: false; error: string } {
  const metadata = body as V2ModelMetadata;
  const tensorsOk = (list: unknown) =>
    Array.isArray(list) &&
    list.every(
      (t) => isObject(t) && typeof t.name === 'string' && typeof t.datatype === 'string' && Array.isArray(t.shape),
    );
  if (!isObject(body) || !tensorsOk(metadata.inputs) || (metadata.inputs?.length ?? 0) === 0)
    return { ok: false, error: 'model metadata lists no inputs' };
  if (metadata.outputs !== undefined && !tensorsOk(metadata.outputs))
    return { ok: false, error: 'model metadata has malformed outputs' };
  return { ok: true, value: metadata };
}

/**
 * Triton's model configuration (`GET …/config`, JSON): its `max_batch_size` bounds the batch dimension that Triton's
 * metadata shows as a leading -1 on every input (Triton answers 400 to a larger batch). Asked only when every input has
 * that leading -1 — a model with a fixed first dimension cannot be batched, so there is nothing to learn; servers
 * without the endpoint (MLServer, KServe's Python server) answer 404 and the metadata is used alone.
 */
export function tritonModelConfig(path: (m: UpstreamModel) => string): MetadataSupplement {
  return {
    kind: 'v2-config',
    path: (m) => `${path(m)}/config`,
    wanted: ({ metadata }) => {
      const inputs = metadata?.inputs ?? [];
      return inputs.length > 0 && inputs.every((t) => t.shape[0] === -1);
    },
    merge(description, body) {
      const n = isObject(body) ? body.max_batch_size : undefined;
      if (!description.metadata || typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) return description;
      return { ...description, metadata: { ...description.metadata, max_batch_size: n } };
    },
  };
}

export const openInferenceV2: ProtocolDefinition = {
  name: 'open-inference-v2',
  group: 'Open Inference Protocol (V2)',
  routes: (prefix, model) => [
    {
      match: { path: { type: 'PathPrefix', value: prefix } },
      rewrite: { type: 'ReplacePrefixMatch', replacePrefixMatch: v2ModelPath(model) },
    },
  ],
  readyPath: (model) => `${v2ModelPath(model)}/ready`,
  metersTokens: false,
  retriesNonIdempotent: true,
  metadata: {
    kind: 'v2-metadata',
    path: v2ModelPath,
    read(body) {
      const read = readV2Metadata(body);
      return read.ok ? { ok: true, value: { metadata: read.value } } : read;
    },
    supplement: tritonModelConfig(v2ModelPath),
  },
  synthesize: ({ title, version, basePath, metadata }) =>
    v2OpenAPIDocument({ title, version, basePath, ...(metadata ? { metadata } : {}) }),
  genericDescribes: true,
  publicPath(mapping, upstreamPath) {
    const prefix = ['v2', 'models', mapping.modelName];
    if (mapping.modelVersion) prefix.push('versions', mapping.modelVersion);
    const matched = matchPrefix(upstreamPath.split('/').slice(1), prefix);
    if (!matched) return undefined;
    // A versioned upstream path is not reachable through an unversioned model and the other way round.
    if (!mapping.modelVersion && matched.rest[0] === 'versions') return undefined;
    const rest = matched.rest.join('/');
    return { path: rest ? `${mapping.basePath}/${rest}` : mapping.basePath, fixedParams: matched.fixed };
  },
  // Element counts against shapes and unique input names: what JSON Schema cannot say about an infer body.
  bodyRules: (method, path) => (method === 'post' && path.endsWith('/infer') ? tensorViolations : undefined),
};
