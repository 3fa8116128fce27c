/**
 * InferencePool backends of HTTPRoutes (Gateway API Inference Extension): the pool's Pods — those in its namespace
 * whose labels match its selector, not being deleted, with an IP — become the endpoints of a cluster balanced by
 * modelgate's own InferenceAware picker (endpoint metrics at `/metrics` on the target port, queue / KV-cache /
 * in-flight / prefix scorers), instead of the pool's external endpoint picker, which is not called. A Pod counts as
 * ready when its `Ready` condition is True. Each pool an accepted route of ours references gets status per parent
 * Gateway, as the CRD defines it (Accepted, ResolvedRefs).
 */
import { type ConditionInput, condition, type ResourceStatus } from '../resources/status.ts';
import type { ResourceSet } from '../resources/types.ts';
import type { Pod } from '../schema/core.ts';
import { INFERENCE_GROUP, type InferencePool } from '../schema/inference-pool.ts';
import type { Cluster, ClusterEndpoint } from '../snapshot/types.ts';
import { resolveLoadBalancer } from './load-balancer.ts';

/** Whether a backendRef names an InferencePool. */
export function isPoolRef(b: { group?: string | undefined; kind?: string | undefined }): boolean {
  return b.group === INFERENCE_GROUP && b.kind === 'InferencePool';
}

/** The pool `namespace/name`, or undefined. */
export function findPool(resources: ResourceSet, namespace: string, name: string): InferencePool | undefined {
  return resources.inferencePools.find(
    (p) => p.metadata.name === name && (p.metadata.namespace ?? 'default') === namespace,
  );
}

/** Why a pool cannot be served by modelgate, or undefined when it can. */
export function unsupportedPool(pool: InferencePool): string | undefined {
  if (pool.spec.appProtocol === 'kubernetes.io/h2c')
    return `InferencePool ${pool.metadata.namespace ?? 'default'}/${pool.metadata.name}: appProtocol kubernetes.io/h2c is not supported (modelgate speaks HTTP/1.1 to model servers)`;
  return undefined;
}

/** The cluster of a pool: its selected Pods × target ports, balanced InferenceAware. */
export function poolCluster(pool: InferencePool, resources: ResourceSet): Cluster {
  const namespace = pool.metadata.namespace ?? 'default';
  const selector = Object.entries(pool.spec.selector.matchLabels);
  const endpoints: ClusterEndpoint[] = [];
  const pods = resources.pods
    .filter((p) => (p.metadata.namespace ?? 'default') === namespace && selects(selector, p))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const pod of pods) {
    const ip = pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip;
    if (!ip || (pod.metadata as { deletionTimestamp?: string }).deletionTimestamp) continue;
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    const host = ip.includes(':') ? `[${ip}]` : ip;
    for (const port of pool.spec.targetPorts) endpoints.push({ origin: `http://${host}:${port.number}`, ready });
  }
  return {
    name: `pool:${namespace}/${pool.metadata.name}`,
    protocol: 'openai',
    basePath: '',
    endpoints,
    ...resolveLoadBalancer(undefined, { policy: 'InferenceAware' }),
    connectTimeoutMs: 5000,
    passiveHealthCheck: { consecutiveFailures: 5, ejectionTimeMs: 10_000, maxEjectionPercent: 50 },
  };
}

function selects(selector: readonly [string, string][], pod: Pod): boolean {
  const labels = pod.metadata.labels ?? {};
  return selector.every(([k, v]) => labels[k] === v);
}

/** The pools accepted routes reference, with the parent Gateways they are reached through. */
export class PoolUses {
  readonly #uses = new Map<string, { parents: Map<string, Record<string, unknown>>; routes: Set<string> }>();

  /** Notes that `route` (accepted through `parents`) references pool `namespace/name`. */
  note(namespace: string, name: string, route: string, parents: readonly Record<string, unknown>[]): void {
    const key = `${namespace}/${name}`;
    let use = this.#uses.get(key);
    if (!use) {
      use = { parents: new Map(), routes: new Set() };
      this.#uses.set(key, use);
    }
    use.routes.add(route);
    for (const p of parents) {
      // A pool's parent is the Gateway (its listeners are the route's business).
      const parent = { group: p.group, kind: p.kind, namespace: p.namespace, name: p.name };
      use.parents.set(JSON.stringify(parent), parent);
    }
  }

  /** Status per referenced pool that exists: Accepted and ResolvedRefs for each parent Gateway. */
  statuses(resources: ResourceSet): ResourceStatus[] {
    const out: ResourceStatus[] = [];
    for (const [key, use] of this.#uses) {
      const [namespace, name] = key.split('/') as [string, string];
      const pool = findPool(resources, namespace, name);
      if (!pool || use.parents.size === 0) continue;
      const unsupported = unsupportedPool(pool);
      const picker = pool.spec.endpointPickerRef;
      const routes = [...use.routes].sort().join(', ');
      const conditions: ConditionInput[] = [
        unsupported
          ? condition('Accepted', 'False', 'NotSupportedByGateway', unsupported)
          : condition('Accepted', 'True', 'Accepted', `backend of ${routes}`),
        condition(
          'ResolvedRefs',
          'True',
          'ResolvedRefs',
          picker
            ? `endpoints are picked by modelgate (InferenceAware: queue, KV cache, in-flight, prefix affinity); the endpoint picker ${picker.kind ?? 'Service'} ${picker.name} is not called`
            : 'endpoints are picked by modelgate (InferenceAware: queue, KV cache, in-flight, prefix affinity)',
        ),
      ];
      out.push({
        ref: `InferencePool/${key}`,
        conditions,
        ...(pool.metadata.generation !== undefined ? { observedGeneration: pool.metadata.generation } : {}),
        fields: { parents: [...use.parents.values()] },
      });
    }
    return out;
  }
}
