/**
 * MLRun serving graphs (`ModelRouter` + `V2ModelServer`, on Nuclio): V2-style paths — `/v2/models/{model}[/versions/
 * {v}]` with `/infer` (also `predict`), `/ready`, and `GET` for metadata (`prefix/infer` → `…/infer`) — but MLRun's own
 * bodies (document.ts). Its metadata lists the model's features when it was logged with them: then rows are typed;
 * otherwise discovery fails with the reason (the `Documented` condition says it) and the generic document is served.
 * Inference calls are retried like idempotent ones.
 */
import { isObject } from '../../openapi/openapi-walk.ts';
import { openInferenceV2, v2ModelPath } from '../open-inference-v2/index.ts';
import type { ProtocolDefinition } from '../protocol.ts';
import { type MLRunFeature, type MLRunModelMetadata, mlrunOpenAPIDocument } from './document.ts';

/** Reads MLRun model metadata; one without input features is an error (the generic document is then used). */
export function readMLRunMetadata(
  body: unknown,
): { ok: true; value: MLRunModelMetadata } | { ok: false; error: string } {
  if (!isObject(body) || typeof body.name !== 'string')
    return { ok: false, error: 'not MLRun model metadata (no name)' };
  const features = (list: unknown): MLRunFeature[] | undefined =>
    Array.isArray(list) && list.every((f) => isObject(f) && typeof f.name === 'string' && f.name !== '')
      ? (list as MLRunFeature[])
      : undefined;
  const inputs = features(body.inputs);
  const outputs = features(body.outputs ?? []);
  if (!inputs || !outputs) return { ok: false, error: 'MLRun model metadata has malformed features' };
  if (inputs.length === 0)
    return { ok: false, error: 'the model was logged without input features (MLRun metadata lists none)' };
  return {
    ok: true,
    value: {
      name: body.name,
      ...(typeof body.version === 'string' && body.version !== '' ? { version: body.version } : {}),
      inputs,
      outputs,
    },
  };
}

export const mlrun: ProtocolDefinition = {
  name: 'mlrun',
  group: 'MLRun',
  // V2's paths: the same routes, probe and mapping of upstream paths back to public ones.
  routes: openInferenceV2.routes,
  readyPath: openInferenceV2.readyPath,
  publicPath: openInferenceV2.publicPath,
  metersTokens: false,
  retriesNonIdempotent: true,
  metadata: {
    kind: 'mlrun-metadata',
    path: v2ModelPath,
    read(body) {
      const read = readMLRunMetadata(body);
      return read.ok ? { ok: true, value: { mlrun: read.value } } : read;
    },
  },
  synthesize: ({ title, version, basePath, mlrun }) =>
    mlrunOpenAPIDocument({ title, version, basePath, ...(mlrun ? { metadata: mlrun } : {}) }),
  genericDescribes: true,
};
