/** OpenAPI 3.0 → 3.1 normalisation: small before/after pairs, then the real upstream documents (test/fixtures/upstream). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { parse } from 'yaml';
import { normalizeTo31 } from '../../src/openapi/normalize-31.ts';

const wrap = (schema: unknown, extra: Record<string, unknown> = {}) => ({
  openapi: '3.0.3',
  info: { title: 't', version: '1' },
  paths: {},
  components: { schemas: { S: schema } },
  ...extra,
});
const out = (schema: unknown) =>
  (normalizeTo31(wrap(schema)).document.components as { schemas: { S: unknown } }).schemas.S;

describe('normalizeTo31 pairs', () => {
  const pairs: [string, unknown, unknown][] = [
    ['nullable type', { type: 'string', nullable: true }, { type: ['string', 'null'] }],
    [
      'nullable enum gains null',
      { type: 'string', enum: ['a'], nullable: true },
      { type: ['string', 'null'], enum: ['a', null] },
    ],
    [
      'nullable $ref',
      { $ref: '#/components/schemas/S', nullable: true },
      { anyOf: [{ $ref: '#/components/schemas/S' }, { type: 'null' }] },
    ],
    ['nullable false disappears', { type: 'integer', nullable: false }, { type: 'integer' }],
    [
      'boolean exclusive bounds',
      { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: false },
      { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    ],
    ['example → examples', { type: 'integer', example: 3 }, { type: 'integer', examples: [3] }],
    [
      'binary → contentMediaType',
      { type: 'string', format: 'binary' },
      { type: 'string', contentMediaType: 'application/octet-stream' },
    ],
    ['base64 → contentEncoding', { type: 'string', format: 'base64' }, { type: 'string', contentEncoding: 'base64' }],
    ['MLServer type bytes', { type: 'bytes' }, { type: 'string' }],
    [
      'nested in properties and items',
      { type: 'object', properties: { a: { type: 'array', items: { type: 'number', nullable: true } } } },
      { type: 'object', properties: { a: { type: 'array', items: { type: ['number', 'null'] } } } },
    ],
    [
      '3.1 spellings are kept',
      { type: ['string', 'null'], exclusiveMinimum: 1 },
      { type: ['string', 'null'], exclusiveMinimum: 1 },
    ],
  ];
  for (const [title, before, after] of pairs) it(title, () => assert.deepEqual(out(before), after));

  it('hoists Pydantic $defs into components and rewrites their references', () => {
    const { document, errors } = normalizeTo31(
      wrap({ type: 'object', properties: { item: { $ref: '#/$defs/Item' } }, $defs: { Item: { type: 'string' } } }),
    );
    assert.deepEqual(errors, []);
    const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
    assert.deepEqual(schemas.Item, { type: 'string' });
    assert.deepEqual(schemas.S, { type: 'object', properties: { item: { $ref: '#/components/schemas/Item' } } });
  });

  it('reports dangling references', () => {
    const { errors } = normalizeTo31(wrap({ $ref: '#/components/schemas/Missing' }));
    assert.deepEqual(errors, ['/components/schemas/S: dangling $ref #/components/schemas/Missing']);
  });

  it('refuses what it cannot normalise, and never changes its input', () => {
    const input = wrap({ type: 'string', nullable: true });
    const copy = structuredClone(input);
    normalizeTo31(input);
    assert.deepEqual(input, copy);
    assert.match(normalizeTo31({ swagger: '2.0' }).errors[0]!, /unsupported OpenAPI version "2.0"/);
  });
});

describe('real upstream documents become valid OpenAPI 3.1', () => {
  const fixtures = new URL('../fixtures/upstream/', import.meta.url);
  const files = [
    'text-generation-inference/openapi.json',
    'torchserve/inference_open_api.json',
    'torchserve/management_open_api.json',
    'mlserver/dataplane.json',
    'mlserver/model_repository.json',
    'kserve/rest_predict_v2.yaml',
  ];
  for (const file of files) {
    it(file, async () => {
      const text = readFileSync(new URL(file, fixtures), 'utf8');
      const { document, errors } = normalizeTo31(file.endsWith('.yaml') ? parse(text) : JSON.parse(text));
      assert.deepEqual(errors, []);
      assert.equal(document.openapi, '3.1.0');
      const result = await validate(structuredClone(document) as never);
      assert.ok(result.valid, compileErrors(result));
    });
  }
});

describe('normalizeTo31 repairs', () => {
  it('moves made-up component sections into schemas and rewrites their references', () => {
    const withEnums = wrap({ $ref: '#/components/enums/Datatype' });
    (withEnums.components as Record<string, unknown>).enums = { Datatype: { type: 'string', enum: ['FP32'] } };
    const fixed = normalizeTo31(withEnums);
    assert.deepEqual(fixed.errors, []);
    const schemas = (fixed.document.components as { schemas: Record<string, unknown> }).schemas;
    assert.deepEqual(schemas.S, { $ref: '#/components/schemas/Datatype' });
    assert.deepEqual(schemas.Datatype, { type: 'string', enum: ['FP32'] });
    assert.equal((fixed.document.components as Record<string, unknown>).enums, undefined);
  });

  it("gives BentoML's validation-mode types (file, tensor, dataframe) their valid spelling", () => {
    const { document, errors } = normalizeTo31(
      wrap({
        type: 'object',
        properties: {
          photo: { type: 'file', format: 'image', pil: true, title: 'Photo' },
          sound: { type: 'file', format: 'audio', content_type: 'audio/wav' },
          tensor: { type: 'tensor', format: 'numpy-array', dtype: 'float32', shape: [2, 3] },
          records: { type: 'dataframe', orient: 'records' },
          columns: { type: 'dataframe', orient: 'columns', columns: ['a'] },
        },
      }),
    );
    assert.deepEqual(errors, []);
    const props = (document.components as { schemas: Record<string, { properties: Record<string, unknown> }> }).schemas
      .S!.properties;
    assert.deepEqual(props.photo, { type: 'string', title: 'Photo', contentMediaType: 'image/*' });
    assert.deepEqual(props.sound, { type: 'string', contentMediaType: 'audio/wav' });
    assert.deepEqual(props.tensor, { type: 'array', items: { type: 'array', items: { type: 'number' } } });
    assert.deepEqual(props.records, { type: 'array', items: { type: 'object' } });
    assert.deepEqual(props.columns, { type: 'object', additionalProperties: { type: 'array', items: {} } });
  });

  it('makes repeated operationIds unique in document order', () => {
    const op = (id: string) => ({ operationId: id, responses: { '200': { description: 'ok' } } });
    const { document } = normalizeTo31({
      openapi: '3.0.1',
      info: { title: 't', version: '1' },
      paths: {
        '/a': { get: op('predictions'), post: op('predictions') },
        '/b': { get: op('predictions'), put: op('other') },
      },
    });
    const paths = document.paths as Record<string, Record<string, { operationId: string }>>;
    assert.deepEqual(
      [
        paths['/a']!.get!.operationId,
        paths['/a']!.post!.operationId,
        paths['/b']!.get!.operationId,
        paths['/b']!.put!.operationId,
      ],
      ['predictions', 'predictions_2', 'predictions_3', 'other'],
    );
  });
});
