/**
 * KServe V1 (`{"instances": [...]}` → `{"predictions": [...]}`) request and response schemas. When the same server
 * also speaks V2 and its metadata has a single input, `instances` is typed from it (docs/protocols.md): a `[-1, F]` FP32
 * input becomes an array of arrays of F numbers. Otherwise the generic V1 schemas, marked `x-schema-source: generic`.
 */
import { batchBound, elementSchema, type V2ModelMetadata } from '../open-inference-v2/schema.ts';

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
  if (!input || !element || input.shape.length === 0 || input.shape[0]! >= 0) {
    return { request: GENERIC_REQUEST, response: GENERIC_RESPONSE, typed: false };
  }
  // Each instance is one row of the batch: the input's shape without its batch dimension (Triton's leading -1, at
  // most `max_batch_size` rows when its configuration says so).
  const rowShape = input.shape.slice(1);
  const batch = batchBound(input.shape, metadata?.max_batch_size);
  let instance: Schema = element;
  for (let level = rowShape.length - 1; level >= 0; level--) {
    const d = rowShape[level]!;
    instance = { type: 'array', items: instance, ...(d >= 0 ? { minItems: d, maxItems: d } : {}) };
  }
  return {
    request: {
      type: 'object',
      required: ['instances'],
      properties: {
        instances: { type: 'array', minItems: 1, ...(batch !== undefined ? { maxItems: batch } : {}), items: instance },
      },
      'x-schema-source': 'metadata',
    },
    response: GENERIC_RESPONSE,
    typed: true,
  };
}

/** What a V1 document is about. */
export interface V1DocumentInput {
  readonly title: string;
  readonly basePath: string;
  readonly version: string;
  readonly metadata?: V2ModelMetadata;
  /** Optional endpoints served: `explain` only for models deployed with an explainer. */
  readonly endpoints?: readonly string[];
}

/**
 * The OpenAPI 3.1 document of one KServe V1 model version in public paths: `GET {base}` (status),
 * `POST {base}:predict`, and `POST {base}:explain` when the model has an explainer (declared).
 */
export function v1OpenAPIDocument(input: V1DocumentInput): Schema {
  const { request, response, typed } = v1Schemas(input.metadata);
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (schema: Schema) => ({ 'application/json': { schema } });
  const example = typed ? exampleInstances(request) : undefined;
  const verb = (operationId: string, summary: string, req: string, res: string) => ({
    post: {
      operationId,
      summary,
      'x-schema-source': typed ? 'metadata' : 'generic',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: ref(req),
            ...(example ? { examples: { zeros: { summary: 'All-zero instance', value: example } } } : {}),
          },
        },
      },
      responses: {
        '200': { description: 'Predictions', content: json(ref(res)) },
        '400': { description: 'Invalid input', content: json(ref('V1Error')) },
      },
    },
  });
  return {
    openapi: '3.1.0',
    info: { title: input.title, version: input.version },
    paths: {
      [input.basePath]: {
        get: {
          operationId: 'modelStatus',
          summary: 'Whether the model is ready',
          responses: {
            '200': {
              description: 'Model status',
              content: json({
                type: 'object',
                required: ['name', 'ready'],
                properties: { name: { type: 'string' }, ready: { type: 'boolean' } },
              }),
            },
          },
        },
      },
      [`${input.basePath}:predict`]: verb('predict', 'Predict', 'PredictRequest', 'PredictResponse'),
      ...(input.endpoints?.includes('explain')
        ? {
            [`${input.basePath}:explain`]: verb('explain', 'Explain a prediction', 'PredictRequest', 'ExplainResponse'),
          }
        : {}),
    },
    components: {
      schemas: {
        PredictRequest: stripSource(request),
        PredictResponse: stripSource(response),
        ExplainResponse: { type: 'object', description: 'Explainer-specific result.' },
        V1Error: { type: 'object', properties: { error: { type: 'string' } } },
      },
    },
  };
}

function stripSource(schema: Schema): Schema {
  const { 'x-schema-source': _source, ...rest } = schema;
  return rest;
}

/** One all-zero instance per the typed request schema. */
function exampleInstances(request: Schema): Schema {
  const instances = (request.properties as Record<string, Schema>).instances!;
  const fill = (s: Schema): unknown => {
    if (s.type === 'array')
      return Array.from({ length: (s.minItems as number | undefined) ?? 1 }, () => fill(s.items as Schema));
    if (s.type === 'boolean') return false;
    if (s.type === 'string') return '';
    return 0;
  };
  return { instances: [fill(instances.items as Schema)] };
}
