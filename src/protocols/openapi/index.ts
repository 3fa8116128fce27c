/**
 * REST model services (FastAPI, Flask, BentoML, TorchServe …) described by their own OpenAPI document: everything
 * below the prefix passes through with the prefix removed; discovery fetches `/openapi.json`, else `/docs.json`
 * (BentoML). There is no protocol
 * metadata and no generic document that would say anything true, and no default health probe.
 */
import type { ProtocolDefinition } from '../protocol.ts';

export const openapi: ProtocolDefinition = {
  name: 'openapi',
  group: 'REST',
  routes: (prefix) => [
    {
      match: { path: { type: 'PathPrefix', value: prefix } },
      rewrite: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' },
    },
  ],
  readyPath: () => undefined,
  metersTokens: false,
  retriesNonIdempotent: false,
  // FastAPI, vLLM and most generators at /openapi.json; BentoML at /docs.json (asked only while the first is not found).
  discoveredDocumentPaths: ['/openapi.json', '/docs.json'],
  synthesize: ({ title, version }) => ({ openapi: '3.1.0', info: { title, version }, paths: {} }),
  genericDescribes: false,
  publicPath: (mapping, upstreamPath) => ({
    path: upstreamPath === '/' ? mapping.basePath : `${mapping.basePath}${upstreamPath}`,
    fixedParams: [],
  }),
};
