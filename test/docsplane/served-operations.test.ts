/**
 * Only what is served is documented (issue 21): an OpenAI-compatible server without embeddings shows no embeddings
 * operation, and every operation its published document shows answers through the gateway; `spec.docs.endpoints`
 * declares what a server has; a server that publishes its own document (vLLM's `/openapi.json`) is documented from
 * it; KServe V1 documents `:explain` only when declared; an endpoint a protocol does not have is a located error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chatHandler } from '../../examples/servers/chat-openai-server.ts';
import { startServer } from '../../examples/servers/http-util.ts';
import { v1OpenAPIDocument } from '../../src/protocols/kserve-v1/schema.ts';
import { validateResource } from '../../src/schema/validate.ts';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

type Operation = {
  requestBody?: { content: Record<string, { examples?: Record<string, { value: unknown }> }> };
};
type Doc = { paths: Record<string, Record<string, Operation>> };

/** What a vLLM server publishes at /openapi.json (abridged: the shape FastAPI gives it). */
const VLLM_DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'vLLM', version: '0.9.1' },
  paths: {
    '/health': { get: { operationId: 'health_health_get', responses: { '200': { description: 'ok' } } } },
    '/tokenize': { post: { operationId: 'tokenize_tokenize_post', responses: { '200': { description: 'ok' } } } },
    '/v1/models': {
      get: { operationId: 'show_available_models_v1_models_get', responses: { '200': { description: 'ok' } } },
    },
    '/v1/chat/completions': {
      post: {
        operationId: 'create_chat_completion_v1_chat_completions_post',
        responses: { '200': { description: 'ok' } },
      },
    },
  },
};

describe('only served operations are documented', () => {
  let gw: TestGateway;
  let chat: { server: import('node:http').Server; port: number };
  let vllm: TestUpstream;
  before(async () => {
    chat = await startServer(chatHandler('tiny-chat', 1));
    vllm = await startUpstream('vllm', (req, res) => {
      if (req.url !== '/openapi.json') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(VLLM_DOCUMENT));
      return true;
    });
    const url = `http://127.0.0.1:${chat.port}`;
    gw = await startGateway({
      'chat.yaml': modelApiYaml('chat', 'openai', [{ name: 'v1', url }], '  docs: {discover: true}\n'),
      'emb.yaml': modelApiYaml(
        'emb',
        'openai',
        [{ name: 'v1', url }],
        '  docs: {discover: true, endpoints: [embeddings, models]}\n',
      ),
      'vllm.yaml': modelApiYaml('vllm', 'openai', [{ name: 'v1', url: vllm.origin }], '  docs: {discover: true}\n'),
    });
    await eventually(async () => {
      const doc = (await call(`${gw.url}/openapi.json`)).json() as Doc;
      return doc.paths['/models/chat/v1/models'] !== undefined && doc.paths['/models/vllm/tokenize'] !== undefined;
    });
  });
  after(async () => {
    await gw?.stop();
    chat?.server.close();
    await vllm?.close();
  });

  it('documents chat, completions and models by default — not embeddings — and every one of them answers', async () => {
    const doc = (await call(`${gw.url}/openapi/default/chat.json`)).json() as Doc;
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/models/chat/v1/chat/completions',
      '/models/chat/v1/completions',
      '/models/chat/v1/models',
    ]);
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item)) {
        const example = Object.values(op.requestBody?.content['application/json']?.examples ?? {})[0]?.value;
        const res = await call(gw.url + path, {
          method: method.toUpperCase(),
          ...(example ? { body: JSON.stringify(example), headers: { 'content-type': 'application/json' } } : {}),
        });
        assert.equal(res.status, 200, `${method.toUpperCase()} ${path} answers (${res.text.slice(0, 200)})`);
      }
  });

  it('documents the endpoints a ModelAPI declares', async () => {
    const doc = (await call(`${gw.url}/openapi/default/emb.json`)).json() as Doc;
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/models/emb/v1/embeddings', '/models/emb/v1/models']);
  });

  it("documents a server that publishes its own document from that document (vLLM's /openapi.json)", async () => {
    const doc = (await call(`${gw.url}/openapi/default/vllm.json`)).json() as Doc;
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      '/models/vllm/health',
      '/models/vllm/tokenize',
      '/models/vllm/v1/chat/completions',
      '/models/vllm/v1/models',
    ]);
    const status = gw.gateway.statuses.get('ModelAPI/default/vllm')!;
    const docs = (status.versions as { docs: { source: string } }[])[0]!.docs;
    assert.equal(docs.source, 'upstream');
  });

  it('documents KServe V1 `:explain` only when the model has an explainer (declared)', () => {
    const plain = v1OpenAPIDocument({ title: 't', basePath: '/models/m', version: 'v1' });
    assert.deepEqual(Object.keys(plain.paths as object).sort(), ['/models/m', '/models/m:predict']);
    const explained = v1OpenAPIDocument({ title: 't', basePath: '/models/m', version: 'v1', endpoints: ['explain'] });
    assert.ok((explained.paths as Record<string, unknown>)['/models/m:explain']);
  });

  it('refuses an endpoint the protocol does not have, at its field', () => {
    const resource: { apiVersion: string; kind: string } & Record<string, unknown> = {
      apiVersion: 'modelgate.dev/v1alpha1',
      kind: 'ModelAPI',
      metadata: { name: 'x' },
      spec: {
        protocol: 'openai',
        docs: { endpoints: ['chat/completions', 'explain'] },
        versions: [{ name: 'v1', backend: { url: 'http://127.0.0.1:1' } }],
      },
    };
    const violations = validateResource(resource);
    assert.deepEqual(violations, [
      {
        pointer: '/spec/docs/endpoints/1',
        message: 'is not an optional endpoint of openai (chat/completions, completions, embeddings, models)',
      },
    ]);
  });
});
