/**
 * KServe V1 (`{"instances": [...]}` → `{"predictions": [...]}`) request and response schemas. When the same server
 * also speaks V2 and its metadata has a single input, `instances` is typed from it (PROTOCOLS.md): a `[-1, F]` FP32
 * input becomes an array of arrays of F numbers. Otherwise the generic V1 schemas, marked `x-schema-source: generic`.
 */
import { elementSchema, type V2ModelMetadata } from './v2-schema.ts';

type Schema = Record<string, unknown>;

const GENERIC_REQUEST: Schema = {
  type: 'object',
  required: ['instances'],
  properties: { instances: { type: 'array' } },
  'x-schema-source': 'generic',
};
const GENERIC_RESPONSE: Schema = {
  type: 'object',
  required: ['predictions'],
  properties: { predictions: { type: 'array' } },
  'x-schema-source': 'generic',
};

/** V1 predict schemas, typed from V2 metadata when it describes exactly one input with a leading batch dimension. */
export function v1Schemas(metadata?: V2ModelMetadata): { request: Schema; response: Schema; typed: boolean } {
  const inputs = metadata?.inputs ?? [];
  const input = inputs.length === 1 ? inputs[0]! : undefined;
  const element = input ? elementSchema(input.datatype) : undefined;
  if (
    !input ||
    !element ||
    input.shape.length === 0 ||
    (input.shape[0]! >= 0 && (metadata?.max_batch_size ?? 0) === 0)
  ) {
    return { request: GENERIC_REQUEST, response: GENERIC_RESPONSE, typed: false };
  }
  // Each instance is one row of the batch: the input's shape without its batch dimension.
  const rowShape = (metadata?.max_batch_size ?? 0) > 0 ? input.shape : input.shape.slice(1);
  let instance: Schema = element;
  for (let level = rowShape.length - 1; level >= 0; level--) {
    const d = rowShape[level]!;
    instance = { type: 'array', items: instance, ...(d >= 0 ? { minItems: d, maxItems: d } : {}) };
  }
  return {
    request: {
      type: 'object',
      required: ['instances'],
      properties: { instances: { type: 'array', minItems: 1, items: instance } },
      'x-schema-source': 'metadata',
    },
    response: GENERIC_RESPONSE,
    typed: true,
  };
}
