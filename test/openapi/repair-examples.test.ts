/**
 * Defaults and examples that break their own schema (as TGI, OpenAI and others publish them) are converted when a
 * string means a valid value and dropped otherwise, checked against the document with `$ref`s resolved.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeTo31 } from '../../src/openapi/normalize-31.ts';

type Json = Record<string, unknown>;

function document(schemas: Json, paths: Json = {}): Json {
  return { openapi: '3.0.3', info: { title: 't', version: '1' }, paths, components: { schemas } };
}

describe('repairing defaults and examples', () => {
  it('converts strings that mean a valid value (TGI: "1024", "false", "null")', () => {
    const { document: out } = normalizeTo31(
      document({
        P: {
          type: 'object',
          properties: {
            max: { type: 'integer', nullable: true, default: '1024', example: '20' },
            flag: { type: 'boolean', default: 'false' },
            none: { type: 'integer', nullable: true, default: 'null' },
            list: { type: 'array', items: { type: 'integer' }, default: '[1, 2]' },
            text: { type: 'string', default: '1024' },
          },
        },
      }),
    );
    const props = ((out.components as Json).schemas as Record<string, { properties: Record<string, Json> }>).P!
      .properties;
    assert.equal(props.max!.default, 1024);
    assert.deepEqual(props.max!.examples, [20]);
    assert.equal(props.flag!.default, false);
    assert.equal(props.none!.default, null);
    assert.deepEqual(props.list!.default, [1, 2]);
    assert.equal(props.text!.default, '1024', 'a valid string stays a string');
  });

  it('drops what cannot be made valid (OpenAI: `default: []` under `minItems: 1`; a wrong enum example)', () => {
    const { document: out } = normalizeTo31(
      document({
        R: {
          type: 'object',
          properties: {
            ids: { type: 'array', items: { type: 'string' }, minItems: 1, default: [] },
            reason: { type: 'string', enum: ['length', 'stop'], example: 'Length' },
            kept: { type: 'string', enum: ['length', 'stop'], examples: ['Length', 'stop'] },
          },
        },
      }),
    );
    const props = ((out.components as Json).schemas as Record<string, { properties: Record<string, Json> }>).R!
      .properties;
    assert.equal('default' in props.ids!, false);
    assert.equal('examples' in props.reason!, false);
    assert.deepEqual(props.kept!.examples, ['stop']);
  });

  it('checks media-type examples against their schema through `$ref` (TGI: a 404 example without `error_type`)', () => {
    const error = {
      type: 'object',
      required: ['error', 'error_type'],
      properties: { error: { type: 'string' }, error_type: { type: 'string' } },
    };
    const content = (example: Json) => ({
      'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' }, example },
    });
    const { document: out } = normalizeTo31(
      document(
        { ErrorResponse: error },
        {
          '/a': {
            get: {
              responses: {
                '404': { description: 'nf', content: content({ error: 'no' }) },
                '500': { description: 'e', content: content({ error: 'x', error_type: 'internal' }) },
              },
            },
          },
        },
      ),
    );
    const responses = ((out.paths as Json)['/a'] as { get: { responses: Record<string, { content: Json }> } }).get
      .responses;
    assert.equal('example' in (responses['404']!.content['application/json'] as Json), false);
    assert.deepEqual((responses['500']!.content['application/json'] as Json).example, {
      error: 'x',
      error_type: 'internal',
    });
  });

  it('gives `type: array` without `items` the equivalent `items: {}` (MLServer `TensorData`)', () => {
    const { document: out } = normalizeTo31(document({ T: { oneOf: [{ type: 'array' }, { type: 'bytes' }] } }));
    const t = ((out.components as Json).schemas as Record<string, { oneOf: Json[] }>).T!;
    assert.deepEqual(t.oneOf, [{ type: 'array', items: {} }, { type: 'string' }]);
  });

  it('leaves values alone where the schema cannot be compiled (an invalid pattern), and never throws', () => {
    const { document: out, errors } = normalizeTo31(
      document({ S: { type: 'string', pattern: '([', default: 'x' }, U: { $ref: '#/components/schemas/S' } }),
    );
    assert.deepEqual(errors, []);
    assert.equal(((out.components as Json).schemas as Record<string, Json>).S!.default, 'x');
  });
});
