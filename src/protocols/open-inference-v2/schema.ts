/**
 * Exact JSON Schemas (2020-12, as OpenAPI 3.1 uses) for one Open Inference Protocol (V2) model, synthesized from its
 * metadata (`GET /v2/models/{m}`), following the recipe in docs/protocols.md. Pure: metadata in, schemas out.
 *
 * What JSON Schema cannot say — that the flat data length equals the product of dynamic dimensions, or that input
 * names are unique — is left to run-time validation.
 */

/** One tensor as V2 metadata describes it. */
export interface TensorMetadata {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly optional?: boolean;
}

/**
 * `GET /v2/models/{m}`, plus Triton's `max_batch_size` from `GET …/config` when known. Triton's metadata already shows
 * the batch dimension (a leading -1 on every tensor of a model with `max_batch_size > 0`); the configuration bounds it.
 */
export interface V2ModelMetadata {
  readonly name: string;
  readonly versions?: readonly string[];
  readonly platform?: string;
  readonly inputs?: readonly TensorMetadata[];
  readonly outputs?: readonly TensorMetadata[];
  readonly max_batch_size?: number;
}

type Schema = Record<string, unknown>;

const INT_RANGES: Record<string, [number, number]> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
};

/** The JSON Schema of one element of a tensor of `datatype`, or undefined for a datatype V2 does not define. */
export function elementSchema(datatype: string): Schema | undefined {
  const range = INT_RANGES[datatype];
  if (range) return { type: 'integer', minimum: range[0], maximum: range[1] };
  switch (datatype) {
    case 'BOOL':
      return { type: 'boolean' };
    case 'INT64':
      return { type: 'integer', format: 'int64' };
    case 'UINT64':
      return { type: 'integer', format: 'int64', minimum: 0 };
    case 'FP16':
    case 'BF16':
    case 'FP32':
    case 'FP64':
      return { type: 'number' };
    case 'BYTES':
      return { type: 'string' };
    default:
      return undefined;
  }
}

/**
 * `parameters` of requests, responses, tensors and requested outputs (Open Inference Protocol `$parameters`): names
 * to values, which the protocol says are strings, numbers or booleans; servers add their own (Triton's
 * `binary_data_size`, MLServer's `content_type`). Any value passes — validation must not refuse what a server
 * accepts — but the map is typed as one, so a generated client can send it (a bare `type: object` becomes
 * `Record<string, never>` in openapi-typescript).
 */
export const V2_PARAMETERS: Schema = {
  type: 'object',
  additionalProperties: {},
  description: 'Inference parameters: names to values (strings, numbers or booleans by the protocol).',
};

/**
 * The bound of a tensor's leading dimension when it is Triton's batch dimension (-1 with `max_batch_size > 0`):
 * Triton refuses a larger batch (400), so requests are held to it. Undefined for anything else.
 */
export function batchBound(shape: readonly number[], maxBatchSize = 0): number | undefined {
  return maxBatchSize > 0 && shape[0] === -1 ? maxBatchSize : undefined;
}

/**
 * A tuple of dimensions. `maxItems` already ends the tuple, so `items` (which could be `false`) is the plain dimension
 * schema: Spectral's `array-items` rule reads `items: false` as a missing `items` and reports an error.
 */
function shapeSchema(shape: readonly number[], exact: boolean, batch: number | undefined): Schema {
  const dims: Schema[] = shape.map((d) => (d >= 0 && exact ? { const: d } : { type: 'integer', minimum: 0 }));
  if (exact && batch !== undefined) dims[0] = { type: 'integer', minimum: 1, maximum: batch };
  return {
    type: 'array',
    prefixItems: dims,
    items: { type: 'integer', minimum: 0 },
    minItems: shape.length,
    maxItems: shape.length,
  };
}

function nestedData(element: Schema, shape: readonly number[], exact: boolean, batch: number | undefined): Schema {
  let schema = element;
  for (let level = shape.length - 1; level >= 0; level--) {
    const d = shape[level]!;
    const bound =
      exact && d >= 0
        ? { minItems: d, maxItems: d }
        : exact && level === 0 && batch !== undefined
          ? { minItems: 1, maxItems: batch }
          : {};
    schema = { type: 'array', items: schema, ...bound };
  }
  return schema;
}

/**
 * The schema of one tensor. `exact` (requests) pins fixed dimensions and data lengths; responses are relaxed, since
 * servers often answer with other shapes than they declare.
 */
export function tensorSchema(
  tensor: TensorMetadata,
  shape: readonly number[],
  exact: boolean,
  batch?: number | undefined,
): Schema {
  const element = elementSchema(tensor.datatype) ?? {};
  const fixed = shape.every((d) => d >= 0);
  const count = shape.reduce((a, b) => a * Math.max(b, 0), 1);
  const flat: Schema = {
    type: 'array',
    items: element,
    ...(exact && fixed ? { minItems: count, maxItems: count } : {}),
  };
  // anyOf, not oneOf: at rank ≤ 1 the flat and nested forms are the same arrays.
  const data = shape.length <= 1 ? flat : { anyOf: [flat, nestedData(element, shape, exact, batch)] };
  return {
    type: 'object',
    title: tensor.name,
    required: ['name', 'datatype', 'shape', 'data'],
    properties: {
      name: { const: tensor.name },
      datatype: { const: tensor.datatype },
      shape: shapeSchema(shape, exact, batch),
      parameters: V2_PARAMETERS,
      data,
    },
  };
}

/** Example value of a tensor: 1 for every dynamic dimension, zeros / false / "" for the data. */
export function exampleTensor(tensor: TensorMetadata, shape: readonly number[]): Schema {
  const concrete = shape.map((d) => (d < 0 ? 1 : d));
  const count = concrete.reduce((a, b) => a * b, 1);
  const zero = tensor.datatype === 'BOOL' ? false : tensor.datatype === 'BYTES' ? '' : 0;
  return { name: tensor.name, shape: concrete, datatype: tensor.datatype, data: Array(count).fill(zero) };
}

/** The request and response schemas of a model, with an example request; undefined when metadata has no inputs. */
export function v2Schemas(
  metadata: V2ModelMetadata,
): { request: Schema; response: Schema; example: Schema } | undefined {
  const inputs = metadata.inputs ?? [];
  const outputs = metadata.outputs ?? [];
  if (inputs.length === 0 || inputs.some((t) => elementSchema(t.datatype) === undefined)) return undefined;
  const maxBatch = metadata.max_batch_size ?? 0;
  const required = inputs.filter((t) => !t.optional);
  const inputSchemas = inputs.map((t) => tensorSchema(t, t.shape, true, batchBound(t.shape, maxBatch)));
  const request: Schema = {
    type: 'object',
    required: ['inputs'],
    properties: {
      id: { type: 'string' },
      parameters: V2_PARAMETERS,
      inputs: {
        type: 'array',
        minItems: required.length,
        maxItems: inputs.length,
        items: inputSchemas.length === 1 ? inputSchemas[0] : { oneOf: inputSchemas },
        ...(required.length > 1
          ? {
              allOf: required.map((t) => ({
                contains: { properties: { name: { const: t.name } }, required: ['name'] },
              })),
            }
          : required.length === 1 && inputs.length > 1
            ? { contains: { properties: { name: { const: required[0]!.name } }, required: ['name'] } }
            : {}),
      },
      ...(outputs.length > 0
        ? {
            outputs: {
              type: 'array',
              items: {
                type: 'object',
                required: ['name'],
                properties: { name: { enum: outputs.map((o) => o.name) }, parameters: V2_PARAMETERS },
              },
            },
          }
        : {}),
    },
  };
  const outputSchemas = outputs.map((t) => tensorSchema(t, t.shape, false));
  const response: Schema = {
    type: 'object',
    required: ['model_name', 'outputs'],
    properties: {
      model_name: { const: metadata.name },
      ...(metadata.versions && metadata.versions.length > 0 ? { model_version: { enum: [...metadata.versions] } } : {}),
      id: { type: 'string' },
      parameters: V2_PARAMETERS,
      outputs: {
        type: 'array',
        items:
          outputSchemas.length === 0
            ? { type: 'object' }
            : outputSchemas.length === 1
              ? outputSchemas[0]
              : { oneOf: outputSchemas },
      },
    },
  };
  const example = { inputs: inputs.filter((t) => !t.optional).map((t) => exampleTensor(t, t.shape)) };
  return { request, response, example };
}
