/** Every resource kind modelgate understands, with what the CRD generator and the validators need to know. */
import type { TSchema } from '@sinclair/typebox';
import { ConfigMap, EndpointSlice, Pod, Secret, Service } from './core.ts';
import {
  BackendTLSPolicy,
  GATEWAY_GROUP,
  Gateway,
  GatewayClass,
  HTTPRoute,
  Namespace,
  ReferenceGrant,
} from './gateway-api.ts';
import { INFERENCE_GROUP, InferencePool } from './inference-pool.ts';
import { ModelAPI } from './model-api.ts';
import { ModelGateway } from './model-gateway.ts';

/** One resource kind: its identity, schema and (for our own CRDs) how it is presented by kubectl. */
export interface KindInfo {
  readonly apiVersion: string;
  readonly kind: string;
  readonly schema: TSchema;
  /** Present for the kinds modelgate defines itself; drives the generated CRD. */
  readonly crd?: {
    readonly plural: string;
    readonly singular: string;
    readonly shortNames: readonly string[];
    readonly categories: readonly string[];
    readonly printerColumns: readonly { name: string; type: string; jsonPath: string; description?: string }[];
  };
}

export const GROUP = 'modelgate.dev';
export const VERSION = 'v1alpha1';

const conditionColumn = (type: string) => ({
  name: type,
  type: 'string',
  jsonPath: `.status.conditions[?(@.type=="${type}")].status`,
});

export const KINDS: readonly KindInfo[] = [
  {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'ModelAPI',
    schema: ModelAPI,
    crd: {
      plural: 'modelapis',
      singular: 'modelapi',
      shortNames: ['mapi'],
      categories: ['modelgate'],
      printerColumns: [
        { name: 'Protocol', type: 'string', jsonPath: '.spec.protocol' },
        { name: 'URL', type: 'string', jsonPath: '.status.url' },
        conditionColumn('Ready'),
        conditionColumn('Documented'),
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    },
  },
  {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'ModelGateway',
    schema: ModelGateway,
    crd: {
      plural: 'modelgateways',
      singular: 'modelgateway',
      shortNames: ['mgw'],
      categories: ['modelgate'],
      printerColumns: [
        { name: 'URL', type: 'string', jsonPath: '.spec.publicURL' },
        conditionColumn('Accepted'),
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    },
  },
  { apiVersion: 'v1', kind: 'Service', schema: Service },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', schema: EndpointSlice },
  { apiVersion: 'v1', kind: 'Secret', schema: Secret },
  { apiVersion: 'v1', kind: 'ConfigMap', schema: ConfigMap },
  { apiVersion: 'v1', kind: 'Namespace', schema: Namespace },
  ...(['v1', 'v1beta1'] as const).flatMap((v) => [
    { apiVersion: `${GATEWAY_GROUP}/${v}`, kind: 'GatewayClass', schema: GatewayClass },
    { apiVersion: `${GATEWAY_GROUP}/${v}`, kind: 'Gateway', schema: Gateway },
    { apiVersion: `${GATEWAY_GROUP}/${v}`, kind: 'HTTPRoute', schema: HTTPRoute },
    { apiVersion: `${GATEWAY_GROUP}/${v}`, kind: 'ReferenceGrant', schema: ReferenceGrant },
  ]),
  { apiVersion: `${GATEWAY_GROUP}/v1`, kind: 'BackendTLSPolicy', schema: BackendTLSPolicy },
  { apiVersion: 'v1', kind: 'Pod', schema: Pod },
  { apiVersion: `${INFERENCE_GROUP}/v1`, kind: 'InferencePool', schema: InferencePool },
];

/** Looks a kind up by apiVersion and kind. */
export function findKind(apiVersion: unknown, kind: unknown): KindInfo | undefined {
  return KINDS.find((k) => k.apiVersion === apiVersion && k.kind === kind);
}
