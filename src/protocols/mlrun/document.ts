/**
 * The OpenAPI 3.1 document of one MLRun serving-graph model (`V2ModelServer` behind a `ModelRouter`), in public paths:
 * `GET {base}` (metadata), `GET {base}/ready`, `POST {base}/infer`. MLRun borrows V2's paths but not its bodies: a
 * request is `{"inputs": [row, …]}` where a row is a list of values in feature order or an object keyed by feature
 * name, and the answer is `{id, model_name, outputs, timestamp[, model_version]}`. With the model's features (logged
 * with the model, returned by its metadata) each row is typed by them (`x-schema-source: metadata`); without, rows
 * are any JSON (`x-schema-source: generic`). Pure.
 */

type Schema = Record<string, unknown>;

/** A feature as MLRun's metadata writes it (`mlrun/features.py`: empty fields left out). */
export interface MLRunFeature {
  readonly name: string;
  readonly value_type?: string;
  readonly dims?: readonly number[];
  readonly description?: string;
}

/** `GET /v2/models/{m}` of an MLRun model. */
export interface MLRunModelMetadata {
  readonly name: string;
  readonly version?: string;
  readonly inputs: readonly MLRunFeature[];
  readonly outputs: readonly MLRunFeature[];
}

/** JSON Schema of one value of an MLRun `ValueType` (`mlrun/data_types/data_types.py`); unknown types: any. */
export function valueSchema(valueType: string | undefined): Schema {
  const t = valueType ?? 'str';
  if (t === 'bool') return { type: 'boolean' };
  if (/^u?int(8|16|32|64|128)?$/.test(t)) return { type: 'integer', ...(t.startsWith('u') ? { minimum: 0 } : {}) };
  if (/^(float|float16|float32|bfloat16|double)$/.test(t)) return { type: 'number' };
  if (t === 'str' || t === 'datetime') return { type: 'string' };
  if (t === 'bytes') return { type: 'string', contentEncoding: 'base64' };
  const list = /^List\[(\w+)\]$/.exec(t);
  if (list) return { type: 'array', items: valueSchema(list[1] === 'string' ? 'str' : list[1]) };
  return {};
}

/** Request and response schemas, and an example request, typed by the features when there are any. */
export function mlrunSchemas(metadata?: MLRunModelMetadata): {
  request: Schema;
  response: Schema;
  example?: Schema;
  typed: boolean;
} {
  const features = metadata?.inputs ?? [];
  const typed = features.length > 0;
  const row: Schema = typed
    ? {
        oneOf: [
          {
            type: 'array',
            title: 'values in feature order',
            prefixItems: features.map((f) => ({ ...valueSchema(f.value_type), title: f.name })),
            // maxItems ends the tuple; `items: false` would say the same, but Spectral reads it as missing.
            items: {},
            minItems: features.length,
            maxItems: features.length,
          },
          {
            type: 'object',
            title: 'values by feature name',
            required: features.map((f) => f.name),
            properties: Object.fromEntries(features.map((f) => [f.name, valueSchema(f.value_type)])),
          },
        ],
      }
    : {};
  const request: Schema = {
    type: 'object',
    required: ['inputs'],
    properties: {
      inputs: { type: 'array', minItems: 1, items: row, description: 'One row per prediction.' },
      id: { type: 'string', description: 'Event id, echoed in the answer.' },
    },
  };
  const response: Schema = {
    type: 'object',
    required: ['id', 'model_name', 'outputs'],
    properties: {
      id: { type: 'string' },
      model_name: metadata ? { const: metadata.name } : { type: 'string' },
      model_version: { type: 'string' },
      outputs: { type: 'array', items: {}, description: 'One result per row.' },
      timestamp: { type: 'string' },
    },
  };
  const zero = (s: Schema): unknown =>
    s.type === 'boolean' ? false : s.type === 'string' ? '' : s.type === 'array' ? [] : 0;
  const example = typed ? { inputs: [features.map((f) => zero(valueSchema(f.value_type)))] } : undefined;
  return { request, response, ...(example ? { example } : {}), typed };
}

/** What the document is about. */
export interface MLRunDocumentInput {
  readonly title: string;
  readonly basePath: string;
  readonly version: string;
  readonly metadata?: MLRunModelMetadata;
}

const FEATURE: Schema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string' },
    value_type: { type: 'string' },
    dims: { type: 'array', items: { type: 'integer' } },
    description: { type: 'string' },
  },
};

export function mlrunOpenAPIDocument(input: MLRunDocumentInput): Schema {
  const { request, response, example, typed } = mlrunSchemas(input.metadata);
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (schema: Schema, extra: Schema = {}) => ({ 'application/json': { schema, ...extra } });
  return {
    openapi: '3.1.0',
    info: { title: input.title, version: input.version },
    paths: {
      [input.basePath]: {
        get: {
          operationId: 'modelMetadata',
          summary: 'Model metadata: the input and output features the model was logged with',
          responses: { '200': { description: 'Model metadata', content: json(ref('MLRunMetadata')) } },
        },
      },
      [`${input.basePath}/ready`]: {
        get: {
          operationId: 'modelReady',
          summary: 'Whether the model is loaded',
          responses: {
            '200': { description: 'Ready', content: { 'text/plain': { schema: { type: 'string' } } } },
            '408': { description: 'Not ready' },
          },
        },
      },
      [`${input.basePath}/infer`]: {
        post: {
          operationId: 'infer',
          summary: 'Predict',
          'x-schema-source': typed ? 'metadata' : 'generic',
          requestBody: {
            required: true,
            content: json(
              ref('MLRunRequest'),
              example ? { examples: { zeros: { summary: 'One all-zero row', value: example } } } : {},
            ),
          },
          responses: {
            '200': { description: 'Predictions', content: json(ref('MLRunResponse')) },
            '400': { description: 'Invalid input', content: { 'text/plain': { schema: { type: 'string' } } } },
          },
        },
      },
    },
    components: {
      schemas: {
        MLRunRequest: request,
        MLRunResponse: response,
        MLRunMetadata: {
          type: 'object',
          required: ['name', 'inputs', 'outputs'],
          properties: {
            name: { type: 'string' },
            version: { type: 'string' },
            inputs: { type: 'array', items: FEATURE },
            outputs: { type: 'array', items: FEATURE },
          },
        },
      },
    },
  };
}
