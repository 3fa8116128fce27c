/**
 * The OpenAPI 3.1 document of one Open Inference Protocol (V2) model version, in the gateway's public paths:
 * `GET {base}` (metadata), `GET {base}/ready`, `POST {base}/infer`. With metadata the infer operation carries the
 * exact schemas of schema.ts (`x-schema-source: metadata`); without, the generic protocol schemas
 * (`x-schema-source: generic`), as docs/protocols.md asks for servers with empty metadata. Pure.
 */
import { V2_PARAMETERS, type V2ModelMetadata, v2Schemas } from './schema.ts';

type Schema = Record<string, unknown>;

/** What the document is about. */
export interface V2DocumentInput {
  readonly title: string;
  /** Public base path of the version, e.g. `/models/iris` or `/models/iris/versions/v2`. */
  readonly basePath: string;
  /** The gateway's public URL; left out of the parts that the merge rebases. */
  readonly serverURL?: string;
  readonly version: string;
  readonly metadata?: V2ModelMetadata;
}

const GENERIC_TENSOR: Schema = {
  type: 'object',
  required: ['name', 'shape', 'datatype', 'data'],
  properties: {
    name: { type: 'string' },
    shape: { type: 'array', items: { type: 'integer', minimum: -1 } },
    datatype: {
      enum: [
        'BOOL',
        'UINT8',
        'UINT16',
        'UINT32',
        'UINT64',
        'INT8',
        'INT16',
        'INT32',
        'INT64',
        'FP16',
        'FP32',
        'FP64',
        'BF16',
        'BYTES',
      ],
    },
    parameters: V2_PARAMETERS,
    data: {
      type: 'array',
      items: {},
      description: 'The tensor contents, flat or nested as the shape; numbers, booleans or strings by datatype.',
    },
  },
};

const GENERIC_REQUEST: Schema = {
  type: 'object',
  required: ['inputs'],
  properties: {
    id: { type: 'string' },
    parameters: V2_PARAMETERS,
    inputs: { type: 'array', items: GENERIC_TENSOR },
    outputs: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } },
  },
};

const GENERIC_RESPONSE: Schema = {
  type: 'object',
  required: ['model_name', 'outputs'],
  properties: {
    model_name: { type: 'string' },
    model_version: { type: 'string' },
    id: { type: 'string' },
    parameters: V2_PARAMETERS,
    outputs: { type: 'array', items: GENERIC_TENSOR },
  },
};

const METADATA_TENSOR: Schema = {
  type: 'object',
  required: ['name', 'datatype', 'shape'],
  properties: {
    name: { type: 'string' },
    datatype: { type: 'string' },
    shape: { type: 'array', items: { type: 'integer' } },
  },
};

const METADATA_RESPONSE: Schema = {
  type: 'object',
  required: ['name', 'platform', 'inputs', 'outputs'],
  properties: {
    name: { type: 'string' },
    versions: { type: 'array', items: { type: 'string' } },
    platform: { type: 'string' },
    inputs: { type: 'array', items: METADATA_TENSOR },
    outputs: { type: 'array', items: METADATA_TENSOR },
  },
};

const ERROR_RESPONSE: Schema = { type: 'object', required: ['error'], properties: { error: { type: 'string' } } };

const json = (schema: Schema, extra: Schema = {}) => ({ 'application/json': { schema, ...extra } });

/** Builds the document. */
export function v2OpenAPIDocument(input: V2DocumentInput): Schema {
  const exact = input.metadata ? v2Schemas(input.metadata) : undefined;
  const source = exact ? 'metadata' : 'generic';
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  return {
    openapi: '3.1.0',
    info: { title: input.title, version: input.version },
    ...(input.serverURL ? { servers: [{ url: input.serverURL }] } : {}),
    paths: {
      [input.basePath]: {
        get: {
          operationId: 'modelMetadata',
          summary: 'Model metadata: inputs and outputs with datatypes and shapes',
          responses: {
            '200': { description: 'Model metadata', content: json(ref('MetadataResponse')) },
            '404': { description: 'Model not found', content: json(ref('ErrorResponse')) },
          },
        },
      },
      [`${input.basePath}/ready`]: {
        get: {
          operationId: 'modelReady',
          summary: 'Whether the model is ready for inference',
          responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready' } },
        },
      },
      [`${input.basePath}/infer`]: {
        post: {
          operationId: 'infer',
          summary: 'Run inference',
          'x-schema-source': source,
          requestBody: {
            required: true,
            content: json(
              ref('InferenceRequest'),
              exact ? { examples: { zeros: { summary: 'All-zero input', value: exact.example } } } : {},
            ),
          },
          responses: {
            '200': { description: 'Inference result', content: json(ref('InferenceResponse')) },
            '400': { description: 'Invalid input', content: json(ref('ErrorResponse')) },
          },
        },
      },
    },
    components: {
      schemas: {
        InferenceRequest: exact?.request ?? GENERIC_REQUEST,
        InferenceResponse: exact?.response ?? GENERIC_RESPONSE,
        MetadataResponse: METADATA_RESPONSE,
        ErrorResponse: ERROR_RESPONSE,
      },
    },
  };
}
