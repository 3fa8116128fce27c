/**
 * What each protocol means for routing: which public paths a ModelAPI version exposes, how they map to upstream
 * paths, and which path tells whether a model is ready. Public paths hide the upstream model name, so a version can
 * move to another server or model name without consumers noticing.
 */
import type { Protocol } from '../schema/model-api.ts';
import type { PathRewrite, RouteMatch } from '../snapshot/types.ts';

/** One public route of a version: how to match it, and how to rewrite its path for the upstream. */
export interface ProtocolRoute {
  readonly match: RouteMatch;
  readonly rewrite: PathRewrite;
}

/** The model identity on the upstream. */
export interface UpstreamModel {
  readonly modelName: string;
  readonly modelVersion?: string | undefined;
}

function v2ModelPath(m: UpstreamModel): string {
  const name = encodeURIComponent(m.modelName);
  return m.modelVersion ? `/v2/models/${name}/versions/${encodeURIComponent(m.modelVersion)}` : `/v2/models/${name}`;
}

/**
 * Public routes under `prefix` for one model:
 * - open-inference-v2: `prefix[/infer|/ready|/generate…]` → `/v2/models/{model}[/versions/{v}]…` (prefix replaced);
 * - kserve-v1: `prefix` → `/v1/models/{model}`, `prefix:predict` and `prefix:explain` → the same verbs upstream;
 * - openai and openapi: everything below `prefix` is passed through with the prefix removed.
 */
export function protocolRoutes(protocol: Protocol, prefix: string, model: UpstreamModel): ProtocolRoute[] {
  switch (protocol) {
    case 'open-inference-v2':
      return [
        {
          match: { path: { type: 'PathPrefix', value: prefix } },
          rewrite: { type: 'ReplacePrefixMatch', replacePrefixMatch: v2ModelPath(model) },
        },
      ];
    case 'kserve-v1': {
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
    }
    case 'openai':
    case 'openapi':
      return [
        {
          match: { path: { type: 'PathPrefix', value: prefix } },
          rewrite: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' },
        },
      ];
  }
}

/** The path an active health check probes by default, or undefined when the protocol has none. */
export function defaultReadyPath(protocol: Protocol, model: UpstreamModel): string | undefined {
  switch (protocol) {
    case 'open-inference-v2':
      return `${v2ModelPath(model)}/ready`;
    case 'kserve-v1':
      return `/v1/models/${encodeURIComponent(model.modelName)}`;
    case 'openai':
      return '/v1/models';
    case 'openapi':
      return undefined;
  }
}

/** Inference protocols are stateless request/response: retrying a POST is safe. Generation (openai) is not cheap. */
export function retriesNonIdempotentByDefault(protocol: Protocol): boolean {
  return protocol === 'open-inference-v2' || protocol === 'kserve-v1';
}
