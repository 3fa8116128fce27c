/**
 * Security in the published document is told as a client meets it (issue 21): the gateway's requirement where it
 * authenticates; the upstream's own requirement, with its schemes namespaced, where the gateway forwards the client's
 * credentials; an explicit `security: []` where nothing is needed. Every scheme referenced is defined.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MergePart, mergeDocuments } from '../../src/openapi/merge.ts';

type Json = Record<string, unknown>;

function part(document: Json, extra: Partial<MergePart> = {}): MergePart {
  return {
    ref: 'ModelAPI/default/llm',
    namespace: 'default',
    name: 'llm',
    version: 'v1',
    versioned: false,
    tag: { name: 'llm' },
    group: 'OpenAI-compatible',
    document,
    hostnames: [],
    maxRequestBodyBytes: 1024,
    ...extra,
  };
}

const upstream: Json = {
  openapi: '3.1.0',
  info: { title: 'vLLM', version: '0.9' },
  security: [{ bearer: [] }],
  paths: {
    '/models/llm/v1/chat/completions': { post: { operationId: 'chat', responses: { '200': { description: 'ok' } } } },
    '/models/llm/health': { get: { operationId: 'health', security: [], responses: { '200': { description: 'ok' } } } },
    '/models/llm/v1/odd': {
      get: { operationId: 'odd', security: [{ undefinedScheme: [] }], responses: { '200': { description: 'ok' } } },
    },
  },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
};

const options = { title: 't', version: '0', publicURL: 'http://gw' };
type Ops = Record<string, Record<string, { security?: unknown }>>;

describe('security in merged documents', () => {
  it("keeps the upstream's requirement and scheme, namespaced, when the gateway forwards credentials", () => {
    const { document } = mergeDocuments([part(upstream)], options);
    const paths = document.paths as Ops;
    assert.deepEqual(paths['/models/llm/v1/chat/completions']!.post!.security, [{ 'llm.v1.bearer': [] }]);
    assert.deepEqual(paths['/models/llm/health']!.get!.security, [], "an operation's own `security: []` holds");
    // A requirement naming a scheme the upstream never defined cannot be published (it would reference nothing).
    assert.deepEqual(paths['/models/llm/v1/odd']!.get!.security, []);
    const schemes = (document.components as { securitySchemes: Json }).securitySchemes;
    assert.deepEqual(schemes, { 'llm.v1.bearer': { type: 'http', scheme: 'bearer' } });
  });

  it("publishes the gateway's requirement instead when the gateway authenticates", () => {
    const { document } = mergeDocuments([part(upstream, { security: [{ 'team-keys': [] }] })], {
      ...options,
      securitySchemes: { 'team-keys': { type: 'apiKey', in: 'header', name: 'x-api-key' } },
    });
    const paths = document.paths as Ops;
    for (const [path, method] of [
      ['/models/llm/v1/chat/completions', 'post'],
      ['/models/llm/health', 'get'],
    ] as const)
      assert.deepEqual(paths[path]![method]!.security, [{ 'team-keys': [] }]);
    assert.deepEqual(Object.keys((document.components as { securitySchemes: Json }).securitySchemes), ['team-keys']);
  });

  it('says `security: []` where neither asks for credentials', () => {
    const plain = { ...upstream, security: undefined, components: {} };
    const { document } = mergeDocuments([part(plain)], options);
    assert.deepEqual((document.paths as Ops)['/models/llm/v1/chat/completions']!.post!.security, []);
    assert.equal((document.components as Json).securitySchemes, undefined);
  });

  it("publishes the upstream's own info on the tag and, for one API's document, on info", () => {
    const upstreamInfo = { title: 'vLLM', version: '0.9' };
    const { document } = mergeDocuments([part(upstream, { tag: { name: 'llm', upstreamInfo } })], {
      ...options,
      upstreamInfo,
    });
    assert.deepEqual((document.tags as Json[])[0]!['x-upstream-info'], upstreamInfo);
    assert.deepEqual((document.info as Json)['x-upstream-info'], upstreamInfo);
  });
});
