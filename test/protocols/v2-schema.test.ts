/** V2 metadata → exact JSON Schema (docs/protocols.md recipe), checked by a real JSON Schema 2020-12 validator. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { v2OpenAPIDocument } from '../../src/protocols/open-inference-v2/document.ts';
import { elementSchema, type V2ModelMetadata, v2Schemas } from '../../src/protocols/open-inference-v2/schema.ts';

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('int64', true);

const iris: V2ModelMetadata = {
  name: 'iris',
  versions: ['1'],
  inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [{ name: 'class', datatype: 'INT64', shape: [-1] }],
};

const multi: V2ModelMetadata = {
  name: 'ranker',
  inputs: [
    { name: 'ids', datatype: 'INT32', shape: [2, 3] },
    { name: 'mask', datatype: 'BOOL', shape: [2, 3] },
    { name: 'note', datatype: 'BYTES', shape: [1], optional: true },
  ],
  outputs: [{ name: 'score', datatype: 'FP32', shape: [2] }],
};

const tensor = (name: string, datatype: string, shape: number[], data: unknown[]) => ({ name, datatype, shape, data });

describe('V2 schema synthesis', () => {
  const cases: { title: string; meta: V2ModelMetadata; body: unknown; valid: boolean }[] = [
    {
      title: 'flat data, dynamic batch',
      meta: iris,
      body: { inputs: [tensor('features', 'FP32', [2, 4], [1, 2, 3, 4, 5, 6, 7, 8])] },
      valid: true,
    },
    {
      title: 'nested data',
      meta: iris,
      body: { inputs: [tensor('features', 'FP32', [1, 4], [[5.1, 3.5, 1.4, 0.2]])] },
      valid: true,
    },
    {
      title: 'fixed dimension changed',
      meta: iris,
      body: { inputs: [tensor('features', 'FP32', [1, 3], [1, 2, 3])] },
      valid: false,
    },
    {
      title: 'nested row of the wrong width',
      meta: iris,
      body: { inputs: [tensor('features', 'FP32', [1, 4], [[1, 2, 3]])] },
      valid: false,
    },
    {
      title: 'wrong datatype',
      meta: iris,
      body: { inputs: [tensor('features', 'INT8', [1, 4], [1, 2, 3, 4])] },
      valid: false,
    },
    {
      title: 'wrong tensor name',
      meta: iris,
      body: { inputs: [tensor('x', 'FP32', [1, 4], [1, 2, 3, 4])] },
      valid: false,
    },
    {
      title: 'strings where numbers belong',
      meta: iris,
      body: { inputs: [tensor('features', 'FP32', [1, 4], ['a', 2, 3, 4])] },
      valid: false,
    },
    { title: 'no inputs', meta: iris, body: { inputs: [] }, valid: false },
    {
      title: 'all required inputs, exact flat length',
      meta: multi,
      body: {
        inputs: [
          tensor('ids', 'INT32', [2, 3], [1, 2, 3, 4, 5, 6]),
          tensor('mask', 'BOOL', [2, 3], [true, true, true, false, false, false]),
        ],
      },
      valid: true,
    },
    {
      title: 'a required input missing (the optional one given instead)',
      meta: multi,
      body: { inputs: [tensor('ids', 'INT32', [2, 3], [1, 2, 3, 4, 5, 6]), tensor('note', 'BYTES', [1], ['x'])] },
      valid: false,
    },
    {
      title: 'fixed shape with the wrong flat length',
      meta: multi,
      body: {
        inputs: [
          tensor('ids', 'INT32', [2, 3], [1, 2, 3]),
          tensor('mask', 'BOOL', [2, 3], [true, true, true, false, false, false]),
        ],
      },
      valid: false,
    },
    {
      title: 'INT32 out of range',
      meta: multi,
      body: {
        inputs: [
          tensor('ids', 'INT32', [2, 3], [1, 2, 3, 4, 5, 2 ** 31]),
          tensor('mask', 'BOOL', [2, 3], [true, true, true, false, false, false]),
        ],
      },
      valid: false,
    },
    {
      title: 'requested outputs must be known',
      meta: iris,
      body: { inputs: [tensor('features', 'FP32', [1, 4], [1, 2, 3, 4])], outputs: [{ name: 'nope' }] },
      valid: false,
    },
    {
      title: "Triton's batch dimension (-1 in its metadata) takes batches up to max_batch_size",
      meta: { name: 't', max_batch_size: 8, inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }] },
      body: { inputs: [tensor('x', 'FP32', [8, 3], Array(24).fill(0))] },
      valid: true,
    },
    {
      title: "Triton's batch dimension refuses a batch over max_batch_size",
      meta: { name: 't', max_batch_size: 8, inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }] },
      body: { inputs: [tensor('x', 'FP32', [9, 3], Array(27).fill(0))] },
      valid: false,
    },
    {
      title: 'the same nested, over max_batch_size',
      meta: { name: 't', max_batch_size: 2, inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }] },
      body: {
        inputs: [
          {
            name: 'x',
            datatype: 'FP32',
            shape: [3, 2],
            data: [
              [0, 0],
              [0, 0],
              [0, 0],
            ],
          },
        ],
      },
      valid: false,
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const schemas = v2Schemas(c.meta)!;
      const validate = ajv.compile(schemas.request);
      assert.equal(validate(c.body), c.valid, JSON.stringify(validate.errors));
    });
  }

  it('generated examples are valid requests', () => {
    for (const meta of [iris, multi]) {
      const schemas = v2Schemas(meta)!;
      assert.ok(ajv.validate(schemas.request, schemas.example), JSON.stringify(ajv.errors));
    }
    assert.deepEqual(v2Schemas(iris)!.example, {
      inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }],
    });
  });

  it('responses are relaxed in shape but exact in names and model', () => {
    const response = ajv.compile(v2Schemas(iris)!.response);
    const ok = { model_name: 'iris', model_version: '1', outputs: [tensor('class', 'INT64', [3], [0, 1, 2])] };
    assert.ok(response(ok), JSON.stringify(response.errors));
    assert.equal(response({ ...ok, model_name: 'other' }), false);
    assert.equal(response({ ...ok, outputs: [tensor('class', 'FP32', [1], [0.5])] }), false);
  });

  it('empty metadata or unknown datatypes give no exact schema (the caller falls back to the generic one)', () => {
    assert.equal(v2Schemas({ name: 'empty' }), undefined);
    assert.equal(v2Schemas({ name: 'odd', inputs: [{ name: 'x', datatype: 'COMPLEX64', shape: [1] }] }), undefined);
  });

  it('maps every V2 datatype', () => {
    assert.deepEqual(elementSchema('UINT8'), { type: 'integer', minimum: 0, maximum: 255 });
    assert.deepEqual(elementSchema('INT16'), { type: 'integer', minimum: -32768, maximum: 32767 });
    assert.deepEqual(elementSchema('UINT64'), { type: 'integer', format: 'int64', minimum: 0 });
    for (const t of ['FP16', 'BF16', 'FP32', 'FP64']) assert.deepEqual(elementSchema(t), { type: 'number' });
    assert.deepEqual(elementSchema('BOOL'), { type: 'boolean' });
    assert.deepEqual(elementSchema('BYTES'), { type: 'string' });
  });
});

describe('V2 OpenAPI document', () => {
  const input = { title: 'iris', basePath: '/models/iris', serverURL: 'https://models.example.com', version: 'v1' };

  it('is a valid OpenAPI 3.1 document, with exact schemas from metadata', async () => {
    const doc = v2OpenAPIDocument({ ...input, metadata: iris });
    const result = await validate(structuredClone(doc) as never);
    assert.ok(result.valid, compileErrors(result));
    const infer = (doc.paths as Record<string, { post?: Record<string, unknown> }>)['/models/iris/infer']!.post!;
    assert.equal(infer['x-schema-source'], 'metadata');
    const request = (doc.components as { schemas: Record<string, unknown> }).schemas.InferenceRequest;
    assert.deepEqual(request, v2Schemas(iris)!.request);
  });

  it('falls back to the generic protocol schemas without metadata, and says so', async () => {
    const doc = v2OpenAPIDocument(input);
    const result = await validate(structuredClone(doc) as never);
    assert.ok(result.valid, compileErrors(result));
    const infer = (doc.paths as Record<string, { post?: Record<string, unknown> }>)['/models/iris/infer']!.post!;
    assert.equal(infer['x-schema-source'], 'generic');
  });

  it('a generated client can send parameters, and every array says what it holds (both kinds of document)', async () => {
    const { default: openapiTS, astToString } = await import('openapi-typescript');
    for (const doc of [v2OpenAPIDocument({ ...input, metadata: iris }), v2OpenAPIDocument(input)]) {
      const arrays: string[] = [];
      const walk = (node: unknown, at: string) => {
        if (typeof node !== 'object' || node === null) return;
        const o = node as Record<string, unknown>;
        if (o.type === 'array' && o.items === undefined && o.prefixItems === undefined) arrays.push(at);
        for (const [k, v] of Object.entries(o)) walk(v, `${at}/${k}`);
      };
      walk(doc, '');
      assert.deepEqual(arrays, [], 'arrays without items (Spectral array-items)');
      const types = astToString(await openapiTS(structuredClone(doc) as never));
      const parameters = [...types.matchAll(/parameters\?: ([^;]+);/g)].map((m) => m[1]);
      assert.ok(parameters.length > 0, 'the request type has parameters');
      for (const p of parameters) assert.doesNotMatch(p!, /Record<string, never>/, `parameters typed ${p}`);
      assert.match(types, /parameters\?: \{\s*\[key: string\]: unknown;?\s*\}/);
    }
  });

  it("the demo iris server's real metadata types its real requests", async () => {
    const { irisHandler } = await import('../../examples/servers/iris-v2-server.ts');
    const { startServer } = await import('../../examples/servers/http-util.ts');
    const { server, port } = await startServer(irisHandler('iris'));
    try {
      const metadata = (await (await fetch(`http://127.0.0.1:${port}/v2/models/iris`)).json()) as V2ModelMetadata;
      const schemas = v2Schemas(metadata)!;
      const request = { inputs: [tensor('features', 'FP32', [1, 4], [5.1, 3.5, 1.4, 0.2])] };
      assert.ok(ajv.validate(schemas.request, request), JSON.stringify(ajv.errors));
      const answer = await fetch(`http://127.0.0.1:${port}/v2/models/iris/infer`, {
        method: 'POST',
        body: JSON.stringify(request),
      });
      assert.ok(ajv.validate(schemas.response, await answer.json()), JSON.stringify(ajv.errors));
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});
