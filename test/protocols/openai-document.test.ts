/**
 * The synthesized OpenAI-compatible document: its schemas agree with the public OpenAI specification (the copy in
 * test/fixtures/upstream, property by property and required list by required list), `model` is the enum of served ids,
 * streaming is documented, the document is valid 3.1, and real answers of the example chat server (JSON and every SSE
 * chunk) validate against it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { chatHandler } from '../../examples/servers/chat-openai-server.ts';
import { startServer } from '../../examples/servers/http-util.ts';
import { OPENAI_SCHEMA_NAMES, openAIDocument, openAIModelIds } from '../../src/protocols/openai/document.ts';
import { call } from '../helpers/gateway.ts';

type Schema = { type?: string | string[]; required?: string[]; properties?: Record<string, Schema> };
const fixture = parse(
  readFileSync(new URL('../fixtures/upstream/kserve/openai-openapi-2.0.0.yaml', import.meta.url), 'utf8'),
) as { components: { schemas: Record<string, Schema> } };

/** Ours → the OpenAI specification's name. */
const COUNTERPART: Record<(typeof OPENAI_SCHEMA_NAMES)[number], string> = {
  ChatCompletionRequest: 'CreateChatCompletionRequest',
  ChatCompletionResponse: 'CreateChatCompletionResponse',
  ChatCompletionChunk: 'CreateChatCompletionStreamResponse',
  CompletionRequest: 'CreateCompletionRequest',
  CompletionResponse: 'CreateCompletionResponse',
  EmbeddingRequest: 'CreateEmbeddingRequest',
  EmbeddingResponse: 'CreateEmbeddingResponse',
  ModelList: 'ListModelsResponse',
};
/** Properties newer than this copy of the specification, or added by OpenAI-compatible servers. */
const NEWER = new Set(['stream_options', 'usage']);
/** Deprecated by OpenAI and left out on purpose. */
const DEPRECATED = new Set(['function_call', 'functions']);

const doc = openAIDocument({ title: 'llm', basePath: '/models/llm', version: 'v1', models: ['b-model', 'a-model'] });
const schemas = (doc.components as { schemas: Record<string, Schema> }).schemas;

describe('OpenAI-compatible document', () => {
  for (const name of OPENAI_SCHEMA_NAMES) {
    it(`${name} agrees with the OpenAI specification's ${COUNTERPART[name]}`, () => {
      const ours = schemas[name]!;
      const theirs = fixture.components.schemas[COUNTERPART[name]]!;
      assert.deepEqual([...(ours.required ?? [])].sort(), [...(theirs.required ?? [])].sort(), 'required');
      const ourProps = Object.keys(ours.properties ?? {});
      const theirProps = Object.keys(theirs.properties ?? {});
      for (const p of ourProps) assert.ok(theirProps.includes(p) || NEWER.has(p), `${p} is not in the specification`);
      for (const p of theirProps) assert.ok(ourProps.includes(p) || DEPRECATED.has(p), `${p} is missing`);
      for (const p of ourProps.filter((x) => theirProps.includes(x))) {
        const theirType = theirs.properties![p]!.type;
        const ourType = ours.properties![p]!.type;
        if (typeof theirType === 'string' && ourType !== undefined)
          assert.ok([ourType].flat().includes(theirType), `${name}.${p}: ${String(ourType)} vs ${theirType}`);
      }
    });
  }

  it('makes `model` the enum of served model ids and documents streaming', async () => {
    const request = schemas.ChatCompletionRequest!.properties!.model as { enum: string[] };
    assert.deepEqual(request.enum, ['b-model', 'a-model']);
    const op = (
      doc.paths as Record<string, { post: { responses: Record<string, { content: Record<string, unknown> }> } }>
    )['/models/llm/v1/chat/completions']!.post;
    assert.deepEqual(Object.keys(op.responses['200']!.content), ['application/json', 'text/event-stream']);
    const result = await validate(structuredClone(doc) as never);
    assert.ok(result.valid, compileErrors(result));
    const generic = openAIDocument({ title: 'llm', basePath: '/x', version: 'v1' });
    const genericModel = (generic.components as { schemas: Record<string, Schema> }).schemas.ChatCompletionRequest!
      .properties!.model as Record<string, unknown>;
    assert.equal(genericModel.enum, undefined);
  });

  it('reads model ids from a /v1/models answer, sorted and unique', () => {
    assert.deepEqual(openAIModelIds({ data: [{ id: 'b' }, { id: 'a' }, { id: 'b' }] }), ['a', 'b']);
    assert.equal(openAIModelIds({ data: [] }), undefined);
    assert.equal(openAIModelIds({ error: 'x' }), undefined);
  });

  describe('real answers validate', () => {
    let server: Awaited<ReturnType<typeof startServer>>;
    before(async () => {
      server = await startServer(chatHandler('tiny-chat', 1));
    });
    after(() => server.server.close());
    const ajv = new Ajv2020({ strict: false });
    const withComponents = (name: string) => ({
      $ref: `#/$defs/${name}`,
      $defs: Object.fromEntries(Object.entries(schemas)),
    });
    const fix = (schema: unknown) =>
      JSON.parse(JSON.stringify(schema).replaceAll('#/components/schemas/', '#/$defs/')) as Record<string, unknown>;

    it('a chat completion and every chunk of its stream', async () => {
      const base = `http://127.0.0.1:${server.port}`;
      const messages = [{ role: 'user', content: 'hello there' }];
      const plain = await call(`${base}/v1/chat/completions`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny-chat', messages }),
      });
      const checkResponse = ajv.compile(fix(withComponents('ChatCompletionResponse')));
      assert.ok(checkResponse(plain.json()), JSON.stringify(checkResponse.errors));
      const checkRequest = ajv.compile(fix(withComponents('ChatCompletionRequest')));
      assert.ok(!checkRequest({ model: 'tiny-chat', messages }), 'tiny-chat is not one of b-model/a-model');
      assert.ok(checkRequest({ model: 'a-model', messages, stream: true, stream_options: { include_usage: true } }));
      const streamed = await call(`${base}/v1/chat/completions`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny-chat', messages, stream: true, stream_options: { include_usage: true } }),
      });
      const chunks = streamed.text
        .split('\n')
        .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
        .map((l) => JSON.parse(l.slice(6)));
      assert.ok(chunks.length > 2);
      const checkChunk = ajv.compile(fix(withComponents('ChatCompletionChunk')));
      for (const chunk of chunks) assert.ok(checkChunk(chunk), JSON.stringify(checkChunk.errors));
    });
  });
});
