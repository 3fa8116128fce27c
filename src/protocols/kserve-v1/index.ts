/**
 * KServe V1 (`{"instances": [...]}` → `{"predictions": [...]}`): the prefix is the model (`GET`), `prefix:predict` and
 * `prefix:explain` the verbs (`POST`), all mapped onto `/v1/models/{model}`. A server that also speaks V2 is asked for
 * V2 metadata (`GET /v2/models/{model}`) to type `instances`; only a single batched input can. Inference calls are
 * retried like idempotent ones.
 */
import { readV2Metadata, tritonModelConfig } from '../open-inference-v2/index.ts';
import { TEMPLATE } from '../path-template.ts';
import type { ProtocolDefinition, ProtocolRoute } from '../protocol.ts';
import { v1OpenAPIDocument, v1Schemas } from './schema.ts';

export const kserveV1: ProtocolDefinition = {
  name: 'kserve-v1',
  group: 'KServe V1',
  routes(prefix, model) {
    const upstream = `/v1/models/${encodeURIComponent(model.modelName)}`;
    return [
      {
        match: { path: { type: 'Exact', value: prefix } },
        rewrite: { type: 'ReplaceFullPath', replaceFullPath: upstream },
      },
      ...['predict', 'explain'].map(
        (verb): ProtocolRoute => ({
          match: { path: { type: 'Exact', value: `${prefix}:${verb}` }, method: 'POST' },
          rewrite: { type: 'ReplaceFullPath', replaceFullPath: `${upstream}:${verb}` },
        }),
      ),
    ];
  },
  readyPath: (model) => `/v1/models/${encodeURIComponent(model.modelName)}`,
  metersTokens: false,
  retriesNonIdempotent: true,
  metadata: {
    kind: 'v2-metadata',
    // The V2 metadata of the same server (V1 has none); a model version does not apply to V1 paths.
    path: (model) => `/v2/models/${encodeURIComponent(model.modelName)}`,
    read(body) {
      const read = readV2Metadata(body);
      if (!read.ok) return read;
      if (!v1Schemas(read.value).typed)
        return { ok: false, error: 'V2 metadata does not describe a single batched input to type V1 instances from' };
      return { ok: true, value: { metadata: read.value } };
    },
    supplement: tritonModelConfig((model) => `/v2/models/${encodeURIComponent(model.modelName)}`),
  },
  synthesize: ({ title, version, basePath, metadata, endpoints }) =>
    v1OpenAPIDocument({ title, version, basePath, endpoints, ...(metadata ? { metadata } : {}) }),
  genericDescribes: true,
  publicPath(mapping, upstreamPath) {
    const m = /^\/v1\/models\/([^/:]+)(:(predict|explain))?$/.exec(upstreamPath);
    if (!m) return undefined;
    const template = TEMPLATE.exec(m[1]!);
    if (!template && decodeURIComponent(m[1]!) !== mapping.modelName) return undefined;
    return { path: `${mapping.basePath}${m[2] ?? ''}`, fixedParams: template ? [template[1]!] : [] };
  },
};
