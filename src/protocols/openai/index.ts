/**
 * OpenAI-compatible LLM servers (vLLM, TGI, llama.cpp, Ollama …): everything below the prefix passes through with the
 * prefix removed; readiness and discovery at `GET /v1/models` (its ids become the `model` enum of the synthesized
 * document). A generation is not retried after it reached the server unless the route says so.
 */
import type { ProtocolDefinition } from '../protocol.ts';
import { openAIDocument, openAIModelIds } from './document.ts';

export const openai: ProtocolDefinition = {
  name: 'openai',
  group: 'OpenAI-compatible',
  routes: (prefix) => [
    {
      match: { path: { type: 'PathPrefix', value: prefix } },
      rewrite: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' },
    },
  ],
  readyPath: () => '/v1/models',
  metersTokens: true,
  retriesNonIdempotent: false,
  metadata: {
    kind: 'openai-models',
    path: () => '/v1/models',
    read(body) {
      const models = openAIModelIds(body);
      return models ? { ok: true, value: { models } } : { ok: false, error: 'the model list is empty or not a list' };
    },
  },
  synthesize: ({ title, version, basePath, models }) =>
    openAIDocument({ title, version, basePath, ...(models ? { models } : {}) }),
  genericDescribes: true,
  publicPath: (mapping, upstreamPath) => ({
    path: upstreamPath === '/' ? mapping.basePath : `${mapping.basePath}${upstreamPath}`,
    fixedParams: [],
  }),
};
