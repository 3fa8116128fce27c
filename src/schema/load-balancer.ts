/**
 * `loadBalancer` of a ModelAPI (and of one version): the policy, and for `InferenceAware` what the gateway reads from
 * each model server and how it weighs it (issue 24).
 */
import { type Static, Type } from '@sinclair/typebox';
import { StringEnum, TimerDuration } from './common.ts';

const MetricNames = (description: string) =>
  Type.Array(Type.String({ pattern: '^[a-zA-Z_:][a-zA-Z0-9_:]*$' }), { minItems: 1, maxItems: 16, description });

export const InferenceMetrics = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({ description: 'Scrape the endpoints (default true); off, the in-flight counts alone decide.' }),
    ),
    path: Type.Optional(Type.String({ pattern: '^/[^?#\\s]*$', description: 'Metrics path (default `/metrics`).' })),
    port: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 65535,
        description: 'Metrics port when it is not the serving port (Triton: 8002); default the endpoint’s own.',
      }),
    ),
    interval: Type.Optional(TimerDuration('Time between two scrapes of one endpoint (default 200ms).')),
    timeout: Type.Optional(TimerDuration('Longest a scrape may take (default the interval, at most 1s).')),
    staleAfter: Type.Optional(
      TimerDuration(
        'Age after which an endpoint’s metrics are not used any more and its in-flight count stands in (default 5 intervals, at least 1s).',
      ),
    ),
    maxBytes: Type.Optional(
      Type.Integer({
        minimum: 1024,
        maximum: 16 * 1024 * 1024,
        description: 'Largest metrics answer read (default 1 MiB); a longer one is a failed scrape.',
      }),
    ),
    names: Type.Optional(
      Type.Object(
        {
          waiting: Type.Optional(
            MetricNames(
              'Gauges of requests waiting for a batch slot, first present wins (default vLLM `vllm:num_requests_waiting`, TGI `tgi_queue_size`, Triton `nv_inference_pending_request_count`, SGLang `sglang:num_queue_reqs`); series summed.',
            ),
          ),
          running: Type.Optional(
            MetricNames(
              'Gauges of requests in the running batch (default `vllm:num_requests_running`, `tgi_batch_current_size`, `sglang:num_running_reqs`); series summed.',
            ),
          ),
          kvCache: Type.Optional(
            MetricNames(
              'Gauges of KV-cache use as a fraction 0–1 (default `vllm:kv_cache_usage_perc`, the older `vllm:gpu_cache_usage_perc`, `sglang:token_usage`); the highest series counts.',
            ),
          ),
        },
        { additionalProperties: false, description: 'Which metric families to read.' },
      ),
    ),
  },
  { additionalProperties: false, description: 'Reading each endpoint’s load from its Prometheus metrics.' },
);

const Weight = (description: string) => Type.Number({ minimum: 0, maximum: 100, description });

export const InferenceBalancing = Type.Object(
  {
    metrics: Type.Optional(InferenceMetrics),
    weights: Type.Optional(
      Type.Object(
        {
          queue: Type.Optional(Weight('Fewer requests at the server (waiting + running; default 2).')),
          kvCache: Type.Optional(Weight('More free KV cache (default 2).')),
          inflight: Type.Optional(Weight('Fewer requests in flight from this gateway (default 1).')),
          prefix: Type.Optional(
            Weight(
              'More of the prompt’s prefix probably cached there (default 6: affinity leads, the load bound and the other scorers keep it from overloading a server).',
            ),
          ),
        },
        { additionalProperties: false, description: 'How much each scorer counts; 0 turns one off.' },
      ),
    ),
    prefix: Type.Optional(
      Type.Object(
        {
          blockSize: Type.Optional(
            Type.Integer({
              minimum: 16,
              maximum: 65536,
              description: 'Characters per hashed prompt block (default 256, about 64 tokens).',
            }),
          ),
          maxBlocks: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 4096,
              description: 'Leading blocks of a prompt that are hashed (default 128: the first ~32k characters).',
            }),
          ),
          capacity: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 10_000_000,
              description: 'Block hashes remembered, least recently used forgotten first (default 100000).',
            }),
          ),
          loadBound: Type.Optional(
            Type.Number({
              minimum: 1,
              maximum: 100,
              description:
                'An endpoint whose load exceeds this multiple of the average (plus one request) gets no prefix credit, so a hot prefix cannot pile onto one server (default 1.25).',
            }),
          ),
        },
        { additionalProperties: false, description: 'Prefix affinity: where a prompt’s beginning probably is cached.' },
      ),
    ),
  },
  { additionalProperties: false, description: 'Settings of the `InferenceAware` policy.' },
);

export const loadBalancerSchema = (description: string) =>
  Type.Object(
    {
      policy: StringEnum(['RoundRobin', 'LeastRequest', 'InferenceAware'], {
        description:
          'Default LeastRequest (power of two choices). InferenceAware scores every endpoint by its queue, KV-cache use, this gateway’s in-flight requests and prompt-prefix affinity.',
      }),
      inference: Type.Optional(InferenceBalancing),
    },
    { additionalProperties: false, description },
  );

export type LoadBalancerSpec = Static<ReturnType<typeof loadBalancerSchema>>;
