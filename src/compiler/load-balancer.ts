/**
 * A version's load balancing, from its own `loadBalancer` or the ModelAPI's, with the InferenceAware defaults
 * resolved: what the data plane's balancer and metrics scraper run with.
 */
import { durationMs } from '../common/durations.ts';
import type { LoadBalancerSpec } from '../schema/load-balancer.ts';
import type { Cluster, InferenceBalancingConfig } from '../snapshot/types.ts';

/** Metric families read by default, first present wins (vLLM, TGI, Triton, SGLang). */
export const DEFAULT_METRIC_NAMES = {
  waiting: [
    'vllm:num_requests_waiting',
    'tgi_queue_size',
    'nv_inference_pending_request_count',
    'sglang:num_queue_reqs',
  ],
  running: ['vllm:num_requests_running', 'tgi_batch_current_size', 'sglang:num_running_reqs'],
  kvCache: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc', 'sglang:token_usage'],
} as const;

export function resolveLoadBalancer(
  version: LoadBalancerSpec | undefined,
  api: LoadBalancerSpec | undefined,
): Pick<Cluster, 'loadBalancer' | 'inference'> {
  const spec = version ?? api;
  const policy = spec?.policy ?? 'LeastRequest';
  if (policy !== 'InferenceAware') return { loadBalancer: policy };
  return { loadBalancer: policy, inference: resolveInference(spec?.inference) };
}

function resolveInference(spec: NonNullable<LoadBalancerSpec['inference']> | undefined): InferenceBalancingConfig {
  const m = spec?.metrics;
  const w = spec?.weights;
  const p = spec?.prefix;
  const intervalMs = durationMs(m?.interval) ?? 200;
  const metrics =
    m?.enabled === false
      ? undefined
      : {
          path: m?.path ?? '/metrics',
          ...(m?.port !== undefined ? { port: m.port } : {}),
          intervalMs,
          timeoutMs: durationMs(m?.timeout) ?? Math.min(intervalMs, 1000),
          staleMs: durationMs(m?.staleAfter) ?? Math.max(5 * intervalMs, 1000),
          maxBytes: m?.maxBytes ?? 1024 * 1024,
          waiting: m?.names?.waiting ?? DEFAULT_METRIC_NAMES.waiting,
          running: m?.names?.running ?? DEFAULT_METRIC_NAMES.running,
          kvCache: m?.names?.kvCache ?? DEFAULT_METRIC_NAMES.kvCache,
        };
  return {
    ...(metrics ? { metrics } : {}),
    weights: {
      queue: w?.queue ?? 2,
      kvCache: w?.kvCache ?? 2,
      inflight: w?.inflight ?? 1,
      prefix: w?.prefix ?? 6,
    },
    prefix: {
      blockSize: p?.blockSize ?? 256,
      maxBlocks: p?.maxBlocks ?? 128,
      capacity: p?.capacity ?? 100_000,
      loadBound: p?.loadBound ?? 1.25,
    },
  };
}
