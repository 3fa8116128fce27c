/**
 * The Gateway API Inference Extension's `InferencePool` (inference.networking.k8s.io/v1), as its CRD defines it
 * (test/fixtures/upstream/gateway-api-inference-extension/crd): the model-server Pods selected by labels, the port(s)
 * they serve on, and a reference to an endpoint picker. modelgate reads the pool and picks endpoints itself (the
 * InferenceAware balancer); the CRD is the Inference Extension's, not generated here.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ObjectMeta } from './common.ts';

const open = { additionalProperties: true } as const;

export const INFERENCE_GROUP = 'inference.networking.k8s.io';

const Port = Type.Object({ number: Type.Integer({ minimum: 1, maximum: 65535 }) }, open);

export const InferencePool = Type.Object(
  {
    apiVersion: Type.Literal(`${INFERENCE_GROUP}/v1`),
    kind: Type.Literal('InferencePool'),
    metadata: ObjectMeta,
    spec: Type.Object(
      {
        selector: Type.Object(
          {
            matchLabels: Type.Record(Type.String(), Type.String(), { minProperties: 1, maxProperties: 64 }),
          },
          open,
        ),
        targetPorts: Type.Array(Port, { minItems: 1, maxItems: 8 }),
        appProtocol: Type.Optional(Type.Union([Type.Literal('http'), Type.Literal('kubernetes.io/h2c')])),
        endpointPickerRef: Type.Optional(
          Type.Object(
            {
              group: Type.Optional(Type.String()),
              kind: Type.Optional(Type.String()),
              name: Type.String({ minLength: 1 }),
              port: Type.Optional(Port),
              failureMode: Type.Optional(Type.Union([Type.Literal('FailOpen'), Type.Literal('FailClose')])),
            },
            open,
          ),
        ),
      },
      open,
    ),
  },
  open,
);

/** inference.networking.k8s.io/v1 InferencePool. */
export type InferencePool = Static<typeof InferencePool>;
