/** Kubernetes objects and gateway replicas the Kubernetes-mode tests share (against test/helpers/kube-apiserver.ts). */
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../src/observability/logger.ts';
import { KubeGateway, type KubeGatewayOptions } from '../../src/runtime/kube/kube-gateway.ts';
import type { KubeApiServer } from './kube-apiserver.ts';

type Json = Record<string, unknown>;

/** A Service (port 80) and its EndpointSlice: one ready endpoint on 127.0.0.1:`port`. */
export function serviceObjects(
  name: string,
  port: number,
  options: { namespace?: string; portName?: string } = {},
): Json[] {
  const namespace = options.namespace ?? 'ml';
  const portName = options.portName ?? 'http';
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace },
      spec: { ports: [{ name: portName, port: 80 }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: portName, port }],
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    },
  ];
}

/**
 * A gateway replica in Kubernetes mode against the simulator, with short lease and backoff timings, authenticated as
 * the gateway's ServiceAccount (in `kubeconfigNamespace`: `default` unless given); anything else from `overrides`.
 */
export function kubeReplica(
  sim: KubeApiServer,
  identity: string,
  overrides: Partial<KubeGatewayOptions> & { kubeconfigNamespace?: string } = {},
): KubeGateway {
  const { kubeconfigNamespace, ...rest } = overrides;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(sim.kubeconfig(kubeconfigNamespace));
  return new KubeGateway({
    kubeConfig,
    identity,
    leaseNamespace: 'modelgate-system',
    leaseDurationMs: 1500,
    renewMs: 250,
    backoff: { baseMs: 50, maxMs: 400 },
    port: 0,
    host: '127.0.0.1',
    adminPort: 0,
    adminHost: '127.0.0.1',
    publicURL: 'https://models.example.com',
    logger: createLogger(process.env.MODELGATE_LOG_LEVEL ?? 'silent'),
    ...rest,
  });
}
