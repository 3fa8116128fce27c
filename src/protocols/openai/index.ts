/**
 * OpenAI-compatible LLM servers (vLLM, TGI, llama.cpp, Ollama …): everything below the prefix passes through with the
 * prefix removed; readiness at `GET /v1/models`. Discovery prefers the server's own document (vLLM `/openapi.json`,
 * TGI `/api-doc/openapi.json`), else synthesizes one from `GET /v1/models` (its ids become the `model` enum) with the
 * endpoints declared on the ModelAPI. A generation is not retried after it reached the server unless the route says so.
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
  discoveredDocumentPaths: ['/openapi.json', '/api-doc/openapi.json'],
  metadata: {
    kind: 'openai-models',
    path: () => '/v1/models',
    read(body) {
      const models = openAIModelIds(body);
      return models ? { ok: true, value: { models } } : { ok: false, error: 'the model list is empty or not a list' };
    },
  },
  synthesize: ({ title, version, basePath, models, endpoints }) =>
    openAIDocument({ title, version, basePath, endpoints, ...(models ? { models } : {}) }),
  genericDescribes: true,
  publicPath: (mapping, upstreamPath) => ({
    path: upstreamPath === '/' ? mapping.basePath : `${mapping.basePath}${upstreamPath}`,
    fixedParams: [],
  }),
};
