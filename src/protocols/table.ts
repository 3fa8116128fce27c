/**
 * The protocol table: every protocol a ModelAPI can speak (schema `spec.protocol`), by name. A new protocol adds its
 * folder under src/protocols/, its name in the schema's enum and a line here.
 */
import type { Protocol } from '../schema/model-api.ts';
import { kserveV1 } from './kserve-v1/index.ts';
import { mlrun } from './mlrun/index.ts';
import { openInferenceV2 } from './open-inference-v2/index.ts';
import { openai } from './openai/index.ts';
import { openapi } from './openapi/index.ts';
import type { ProtocolDefinition } from './protocol.ts';

export const PROTOCOLS: Readonly<Record<Protocol, ProtocolDefinition>> = {
  'open-inference-v2': openInferenceV2,
  'kserve-v1': kserveV1,
  openai,
  openapi,
  mlrun,
};
