/** KServe V1 schemas typed from V2 metadata, checked with a real JSON Schema validator. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { v1Schemas } from '../../src/protocols/kserve-v1/schema.ts';

const ajv = new Ajv2020({ strict: false });
ajv.addKeyword('x-schema-source');

describe('V1 schemas', () => {
  it('types instances as rows of F numbers from a [-1, F] FP32 input', () => {
    const { request, typed } = v1Schemas({
      name: 'iris',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
    });
    assert.equal(typed, true);
    const validate = ajv.compile(request);
    assert.equal(
      validate({
        instances: [
          [5.1, 3.5, 1.4, 0.2],
          [1, 2, 3, 4],
        ],
      }),
      true,
    );
    assert.equal(validate({ instances: [[5.1, 3.5, 1.4]] }), false);
    assert.equal(validate({ instances: [['a', 1, 2, 3]] }), false);
    assert.equal(validate({ instances: [] }), false);
  });

  it("bounds the instances by Triton's max_batch_size (its metadata shows the batch dimension as -1)", () => {
    const { request } = v1Schemas({
      name: 't',
      max_batch_size: 4,
      inputs: [{ name: 'x', datatype: 'INT8', shape: [-1, 2] }],
    });
    const validate = ajv.compile(request);
    assert.equal(validate({ instances: [[1, 2]] }), true);
    assert.equal(validate({ instances: [[1, 200]] }), false, 'INT8 range');
    assert.equal(validate({ instances: Array(4).fill([1, 2]) }), true);
    assert.equal(validate({ instances: Array(5).fill([1, 2]) }), false, 'a batch of 5 over max_batch_size 4');
  });

  const generic: [string, Parameters<typeof v1Schemas>[0]][] = [
    ['no metadata', undefined],
    [
      'several inputs',
      {
        name: 'm',
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [-1] },
          { name: 'b', datatype: 'FP32', shape: [-1] },
        ],
      },
    ],
    ['no batch dimension', { name: 'm', inputs: [{ name: 'a', datatype: 'FP32', shape: [3] }] }],
    ['unknown datatype', { name: 'm', inputs: [{ name: 'a', datatype: 'STRANGE', shape: [-1] }] }],
  ];
  for (const [title, meta] of generic) {
    it(`falls back to the generic schema: ${title}`, () => {
      const { request, typed } = v1Schemas(meta);
      assert.equal(typed, false);
      assert.equal(request['x-schema-source'], 'generic');
    });
  }
});
