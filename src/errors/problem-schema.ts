/** The JSON Schema of the gateway's problem+json bodies, published in every merged OpenAPI document. */
import { ERRORS } from './catalog.ts';

/** RFC 9457 problem details with modelgate's `code` and `requestId` members. */
export const PROBLEM_JSON_SCHEMA: Record<string, unknown> = {
  type: 'object',
  description: 'RFC 9457 problem details, answered by the gateway itself (see `code`).',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', format: 'uri', description: 'Documentation of the error code.' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string', description: 'What was wrong with this request.' },
    code: { type: 'string', enum: Object.values(ERRORS).map((e) => e.code) },
    instance: { type: 'string' },
    requestId: { type: 'string', description: 'The `x-request-id` of the request, for support.' },
    violations: {
      type: 'array',
      description: 'MG-400-INVALID-REQUEST: every way the request breaks the published schema.',
      items: {
        type: 'object',
        required: ['pointer', 'message'],
        properties: {
          pointer: {
            type: 'string',
            description: 'JSON pointer into the body (`/inputs/0/data`), or `<in>:<name>` of a parameter.',
          },
          message: { type: 'string' },
        },
      },
    },
  },
};
