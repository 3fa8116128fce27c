/**
 * The gateway's OpenAI endpoint in the merged document: chat completions, completions and the model list under its
 * prefix, `model` the enum of the ids it routes (aliases included), streaming as for each API, with a tag that says
 * how a model is picked. Its security: each model's own API decides, so the alternatives are the requirements of the
 * OpenAI-compatible APIs (and `{}` when one of them needs none). Pure.
 */
import type { MergePart } from '../../openapi/merge.ts';
import { openAIDocument } from '../../protocols/openai/document.ts';
import type { ModelAPI } from '../../schema/model-api.ts';
import type { OpenAIEndpoint } from '../../snapshot/types.ts';
import { documentedSecurity } from './build-docs.ts';

type Json = Record<string, unknown>;

/** The merged document's part for the endpoint, or undefined when it routes no model yet. */
export function openAIEndpointPart(
  endpoint: OpenAIEndpoint,
  apis: readonly ModelAPI[],
  schemes: Json | undefined,
  gatewayRef: string,
): MergePart | undefined {
  const ids = Object.keys(endpoint.models).sort();
  if (ids.length === 0) return undefined;
  const synthesized = openAIDocument({
    title: 'OpenAI endpoint',
    basePath: '',
    version: 'gateway',
    models: ids,
    endpoints: ['chat/completions', 'completions', 'models'],
  });
  // The synthesized paths are `/v1/…`; the endpoint's prefix may be another.
  const paths = Object.fromEntries(
    Object.entries(synthesized.paths as Json).map(([path, item]) => [
      `${endpoint.prefix}${path.slice('/v1'.length)}`,
      item,
    ]),
  );
  // Each model's API decides: its requirement is one alternative; `{}` (no credentials) is another when some model
  // needs none.
  const requirements = apis.map((api) => documentedSecurity(api, schemes)?.security);
  const security = requirements.every((r) => r === undefined)
    ? undefined
    : [...dedupe(requirements.flatMap((r) => r ?? [])), ...(requirements.some((r) => r === undefined) ? [{}] : [])];
  const aliases = apis.flatMap((api) => (api.spec.modelAliases ?? []).map((a) => `\`${a.name}\` → \`${a.model}\``));
  return {
    ref: `${gatewayRef}#openAIEndpoint`,
    namespace: '',
    name: 'openai-endpoint',
    version: 'gateway',
    versioned: false,
    tag: {
      name: 'OpenAI endpoint',
      description: [
        `One OpenAI-compatible endpoint for every model: the body's \`model\` picks the model API that serves it, and the request continues there with that API's authentication, limits and validation. Models: ${ids.map((id) => `\`${id}\` (${endpoint.models[id]!.ownedBy})`).join(', ')}.`,
        ...(aliases.length > 0 ? [`Aliases, rewritten to the upstream id: ${aliases.join(', ')}.`] : []),
        'An unknown model is answered 404 with the ids the caller may use; `GET models` lists them.',
      ].join('\n\n'),
    },
    group: 'OpenAI-compatible',
    document: { ...synthesized, paths },
    hostnames: [],
    maxRequestBodyBytes: endpoint.maxBodyBytes,
    ...(security && security.length > 0 ? { security } : {}),
  };
}

function dedupe(requirements: Record<string, string[]>[]): Record<string, string[]>[] {
  const seen = new Set<string>();
  return requirements.filter((r) => {
    const key = JSON.stringify(r);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
