/** The resource model every source produces and the compiler consumes. */
import type { ConfigMap, EndpointSlice, Pod, Secret, Service } from '../schema/core.ts';
import type {
  BackendTLSPolicy,
  Gateway,
  GatewayClass,
  HTTPRoute,
  Namespace,
  ReferenceGrant,
} from '../schema/gateway-api.ts';
import type { InferencePool } from '../schema/inference-pool.ts';
import type { ModelAPI } from '../schema/model-api.ts';
import type { ModelGateway } from '../schema/model-gateway.ts';

/** Where a resource was read from (file mode); absent for resources from the Kubernetes API. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** Identifies one object: `Kind/namespace/name`. */
export interface ObjectRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** The full, current state of the world as one source sees it; sources hand over a new one on every change. */
export interface ResourceSet {
  readonly modelApis: readonly ModelAPI[];
  readonly modelGateways: readonly ModelGateway[];
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly secrets: readonly Secret[];
  readonly configMaps: readonly ConfigMap[];
  readonly namespaces: readonly Namespace[];
  readonly gatewayClasses: readonly GatewayClass[];
  readonly gateways: readonly Gateway[];
  readonly httpRoutes: readonly HTTPRoute[];
  readonly referenceGrants: readonly ReferenceGrant[];
  readonly backendTLSPolicies: readonly BackendTLSPolicy[];
  /** Gateway API Inference Extension pools (HTTPRoute backends) and the Pods they select. */
  readonly inferencePools: readonly InferencePool[];
  readonly pods: readonly Pod[];
}

/** An empty resource set. */
export const EMPTY_RESOURCES: ResourceSet = {
  modelApis: [],
  modelGateways: [],
  services: [],
  endpointSlices: [],
  secrets: [],
  configMaps: [],
  namespaces: [],
  gatewayClasses: [],
  gateways: [],
  httpRoutes: [],
  referenceGrants: [],
  backendTLSPolicies: [],
  inferencePools: [],
  pods: [],
};

/** `Kind/namespace/name`, the key used for statuses and diagnostics. */
export function refKey(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** The ref of any object with metadata; a missing namespace means `default`, as kubectl assumes. */
export function refOf(obj: { kind: string; metadata: { name: string; namespace?: string | undefined } }): ObjectRef {
  return { kind: obj.kind, namespace: obj.metadata.namespace ?? 'default', name: obj.metadata.name };
}
