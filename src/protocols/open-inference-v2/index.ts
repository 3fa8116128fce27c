/**
 * Open Inference Protocol (V2) — KServe, Triton, MLServer, Seldon Core v2, MLRun: a version's public prefix maps onto
 * `/v2/models/{model}[/versions/{v}]` (`prefix/infer` → `…/infer`); readiness at `…/ready`; metadata at `GET …`
 * types the infer operation exactly; validation checks element counts against shapes; inference calls are retried
 * like idempotent ones.
 */
import { isObject } from '../../openapi/openapi-walk.ts';
import { matchPrefix } from '../path-template.ts';
import type { ProtocolDefinition, UpstreamModel } from '../protocol.ts';
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
