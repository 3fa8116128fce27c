/**
 * The core Kubernetes objects modelgate reads, with the fields it uses typed as Kubernetes defines them
 * (core/v1 Service, Secret and Pod, discovery.k8s.io/v1 EndpointSlice). Unknown fields are allowed, as the API server would.
 */
import { type Static, Type } from '@sinclair/typebox';
import { IntOrString, ObjectMeta, secret } from './common.ts';

const open = { additionalProperties: true } as const;

export const ServicePort = Type.Object(
  {
    name: Type.Optional(Type.String()),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    targetPort: Type.Optional(IntOrString('Port on the pods.')),
    protocol: Type.Optional(Type.String()),
    appProtocol: Type.Optional(Type.String()),
  },
  open,
);

export const Service = Type.Object(
  {
    apiVersion: Type.Literal('v1'),
    kind: Type.Literal('Service'),
    metadata: ObjectMeta,
    spec: Type.Object(
      {
        type: Type.Optional(Type.String()),
        ports: Type.Optional(Type.Array(ServicePort)),
        selector: Type.Optional(Type.Record(Type.String(), Type.String())),
        clusterIP: Type.Optional(Type.String()),
        externalName: Type.Optional(Type.String()),
      },
      open,
    ),
  },
  open,
);

export const EndpointSlice = Type.Object(
  {
    apiVersion: Type.Literal('discovery.k8s.io/v1'),
    kind: Type.Literal('EndpointSlice'),
    metadata: ObjectMeta,
    addressType: Type.String({ enum: ['IPv4', 'IPv6', 'FQDN'] }),
    endpoints: Type.Array(
      Type.Object(
        {
          addresses: Type.Array(Type.String(), { minItems: 1 }),
          conditions: Type.Optional(
            Type.Object(
              {
                ready: Type.Optional(Type.Boolean()),
                serving: Type.Optional(Type.Boolean()),
                terminating: Type.Optional(Type.Boolean()),
              },
              open,
            ),
          ),
          hostname: Type.Optional(Type.String()),
          nodeName: Type.Optional(Type.String()),
          zone: Type.Optional(Type.String()),
        },
        open,
      ),
    ),
    ports: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.Optional(Type.String()),
            port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
            protocol: Type.Optional(Type.String()),
            appProtocol: Type.Optional(Type.String()),
          },
          open,
        ),
      ),
    ),
  },
  open,
);

export const Secret = Type.Object(
  {
    apiVersion: Type.Literal('v1'),
    kind: Type.Literal('Secret'),
    metadata: ObjectMeta,
    type: Type.Optional(Type.String()),
    data: Type.Optional(Type.Record(Type.String(), Type.String({ contentEncoding: 'base64', ...secret('value') }))),
    stringData: Type.Optional(Type.Record(Type.String(), Type.String(secret('value')))),
  },
  open,
);

export const ConfigMap = Type.Object(
  {
    apiVersion: Type.Literal('v1'),
    kind: Type.Literal('ConfigMap'),
    metadata: ObjectMeta,
    data: Type.Optional(Type.Record(Type.String(), Type.String())),
    binaryData: Type.Optional(Type.Record(Type.String(), Type.String({ contentEncoding: 'base64' }))),
  },
  open,
);

/** The part of a core/v1 Pod an InferencePool needs: labels (in metadata), the IPs, and readiness. */
export const Pod = Type.Object(
  {
    apiVersion: Type.Literal('v1'),
    kind: Type.Literal('Pod'),
    metadata: ObjectMeta,
    status: Type.Optional(
      Type.Object(
        {
          phase: Type.Optional(Type.String()),
          podIP: Type.Optional(Type.String()),
          podIPs: Type.Optional(Type.Array(Type.Object({ ip: Type.String() }, open))),
          conditions: Type.Optional(Type.Array(Type.Object({ type: Type.String(), status: Type.String() }, open))),
        },
        open,
      ),
    ),
  },
  open,
);

/** core/v1 Service. */
export type Service = Static<typeof Service>;
/** core/v1 Pod (what an InferencePool reads of it). */
export type Pod = Static<typeof Pod>;
/** discovery.k8s.io/v1 EndpointSlice. */
export type EndpointSlice = Static<typeof EndpointSlice>;
/** core/v1 Secret. */
export type Secret = Static<typeof Secret>;
/** core/v1 ConfigMap. */
export type ConfigMap = Static<typeof ConfigMap>;
