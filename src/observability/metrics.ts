/**
 * Prometheus metrics. The two that every request updates (requests, latency) are plain counters read at scrape time
 * (request-stats.ts); the rest are prom-client metrics, updated on rarer events.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import { apiLabels, clusterLabels } from './api-labels.ts';
import { RequestStats, type RouteStats } from './request-stats.ts';

/** The ref of a series' `namespace` and `api` labels (the inverse of apiLabels). */
function refOf(namespace: string, api: string): string {
  if (namespace === '' && api === '') return '';
  const slash = api.indexOf('/');
  return slash < 0 ? `ModelAPI/${namespace}/${api}` : `${api.slice(0, slash)}/${namespace}/${api.slice(slash + 1)}`;
}

/**
 * A prom-client metric whose first labels are `namespace` and `api`, labelled by ref: `labels(ref, ...rest)`.
 */
/** One endpoint's reported load (modelgate_endpoint_load). */
export interface EndpointLoadSample {
  readonly cluster: string;
  readonly endpoint: string;
  readonly waiting: number;
  readonly running: number;
  readonly kvCache: number;
}

class ByApi<M extends Counter<string> | Histogram<string>> {
  readonly metric: M;
  constructor(metric: M) {
    this.metric = metric;
  }
  labels(ref: string, ...rest: string[]): ReturnType<M['labels']> {
    const [namespace, api] = apiLabels(ref);
    return (this.metric.labels as unknown as (...values: string[]) => ReturnType<M['labels']>)(namespace, api, ...rest);
  }
}

/** The gateway's metric set, one per process. */
export class GatewayMetrics {
  readonly registry = new Registry();
  /** Requests and latency: updated on every request, so kept outside prom-client's label hashing (see request-stats). */
  readonly #requestStats = new RequestStats([
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
  ]);
  constructor() {
    // The process and the runtime: CPU, memory, heap spaces, event-loop lag, GC, handles (prom-client's standard set).
    collectDefaultMetrics({ register: this.registry });
    this.registry.registerMetric(
      this.#requestStats.counter(
        'modelgate_requests_total',
        'Requests answered, by ModelAPI, version and status code.',
      ) as unknown as Metric,
    );
    this.registry.registerMetric(
      this.#requestStats.histogram(
        'modelgate_request_duration_seconds',
        'Time from the request to the last byte of its answer (a 30 s stream counts 30 s), by ModelAPI and version.',
        'whole',
      ) as unknown as Metric,
    );
    this.registry.registerMetric(
      this.#requestStats.histogram(
        'modelgate_time_to_first_byte_seconds',
        'Time from the request to the head of its answer, by ModelAPI and version.',
        'head',
      ) as unknown as Metric,
    );
  }
  readonly upstreamErrors = new ByApi(
    new Counter({
      name: 'modelgate_upstream_errors_total',
      help: 'Failed upstream attempts, by ModelAPI, version and kind (connect, reset, timeout, protocol).',
      labelNames: ['namespace', 'api', 'version', 'kind'] as const,
      registers: [this.registry],
    }),
  );
  readonly modelFallbacks = new ByApi(
    new Counter({
      name: 'modelgate_model_fallbacks_total',
      help: 'Requests of the OpenAI endpoint moved on to a fallback model, by the ModelAPI that failed, its model and the cause (connect, timeout, unavailable, status-429, status-5xx).',
      labelNames: ['namespace', 'api', 'model', 'cause'] as const,
      registers: [this.registry],
    }),
  );
  readonly retries = new ByApi(
    new Counter({
      name: 'modelgate_retries_total',
      help: 'Upstream attempts beyond the first, by ModelAPI and version.',
      labelNames: ['namespace', 'api', 'version'] as const,
      registers: [this.registry],
    }),
  );
  readonly endpointHealthy = new Gauge({
    name: 'modelgate_endpoint_healthy',
    help: 'Active health check result per endpoint (1 healthy, 0 not), by ModelAPI and version.',
    labelNames: ['namespace', 'api', 'version', 'endpoint'] as const,
    registers: [this.registry],
  });
  /**
   * What the InferenceAware balancer reads from endpoints (the data plane sets it): every endpoint's last figures that
   * are still fresh enough to be used, read when /metrics is scraped.
   */
  loadSource: (() => Iterable<EndpointLoadSample>) | undefined;
  readonly endpointLoad = new Gauge({
    name: 'modelgate_endpoint_load',
    help: 'What each endpoint of an InferenceAware version last reported at its metrics endpoint, while fresh enough to be used (figure: waiting, running, kv_cache 0–1), by ModelAPI and version.',
    labelNames: ['namespace', 'api', 'version', 'endpoint', 'figure'] as const,
    registers: [this.registry],
    collect: () => {
      this.endpointLoad.reset();
      for (const s of this.loadSource?.() ?? []) {
        const [namespace, api, version] = clusterLabels(s.cluster);
        this.endpointLoad.labels(namespace, api, version, s.endpoint, 'waiting').set(s.waiting);
        this.endpointLoad.labels(namespace, api, version, s.endpoint, 'running').set(s.running);
        if (!Number.isNaN(s.kvCache))
          this.endpointLoad.labels(namespace, api, version, s.endpoint, 'kv_cache').set(s.kvCache);
      }
    },
  });
  readonly rateLimitStoreErrors = new Counter({
    name: 'modelgate_ratelimit_store_errors_total',
    help: 'Rate-limit checks the shared store (Redis) could not answer; the failure mode decided them.',
    registers: [this.registry],
  });
  readonly policyRejections = new ByApi(
    new Counter({
      name: 'modelgate_policy_rejections_total',
      help: 'Requests a policy refused, by ModelAPI and policy (ip, auth, ratelimit, tokens, validation, docs-auth).',
      labelNames: ['namespace', 'api', 'policy'] as const,
      registers: [this.registry],
    }),
  );
  readonly validationViolations = new ByApi(
    new Counter({
      name: 'modelgate_validation_failures_total',
      help: 'Requests that broke the published schema, by ModelAPI and mode (enforce: refused; report: let through).',
      labelNames: ['namespace', 'api', 'mode'] as const,
      registers: [this.registry],
    }),
  );
  readonly cacheLookups = new ByApi(
    new Counter({
      name: 'modelgate_cache_lookups_total',
      help: 'Response cache lookups, by ModelAPI and result (hit, miss, coalesced, bypass).',
      labelNames: ['namespace', 'api', 'result'] as const,
      registers: [this.registry],
    }),
  );
  readonly cacheStoreErrors = new Counter({
    name: 'modelgate_cache_store_errors_total',
    help: 'Cache reads or writes the shared store (Redis) failed; they count as misses.',
    registers: [this.registry],
  });
  readonly tokens = new ByApi(
    new Counter({
      name: 'modelgate_tokens_total',
      help: 'Model tokens (prompt + completion) reported by OpenAI-compatible models, by ModelAPI and version (every answer that reports usage).',
      labelNames: ['namespace', 'api', 'version'] as const,
      registers: [this.registry],
    }),
  );
  readonly genAiTokens = new ByApi(
    new Counter({
      name: 'modelgate_gen_ai_tokens_total',
      help: 'Tokens OpenAI-compatible models reported (gen_ai.client.token.usage), by ModelAPI, version, requested model, consumer and type (input, output).',
      labelNames: ['namespace', 'api', 'version', 'model', 'consumer', 'type'] as const,
      registers: [this.registry],
    }),
  );
  readonly genAiTimeToFirstToken = new ByApi(
    new Histogram({
      name: 'modelgate_gen_ai_time_to_first_token_seconds',
      help: 'From the request to the first bytes of a successful OpenAI-compatible answer (gen_ai.server.time_to_first_token), by ModelAPI, version and requested model.',
      labelNames: ['namespace', 'api', 'version', 'model'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    }),
  );
  readonly genAiRequestDuration = new ByApi(
    new Histogram({
      name: 'modelgate_gen_ai_request_duration_seconds',
      help: 'From the request to the last byte of a successful OpenAI-compatible answer (gen_ai.server.request.duration), by ModelAPI, version and requested model.',
      labelNames: ['namespace', 'api', 'version', 'model'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [this.registry],
    }),
  );
  readonly deprecatedCalls = new ByApi(
    new Counter({
      name: 'modelgate_deprecated_requests_total',
      help: 'Calls to deprecated versions, by ModelAPI, version and consumer (the authenticated subject, when known).',
      labelNames: ['namespace', 'api', 'version', 'consumer'] as const,
      registers: [this.registry],
    }),
  );
  readonly reloads = new Counter({
    name: 'modelgate_config_reloads_total',
    help: 'Configuration reloads, by result (applied, rejected).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  /**
   * Drops the series of what a reload removed: APIs no longer served (`api` label) and endpoints no longer in any
   * cluster (keys `<namespace>\0<api>\0<version>\0<endpoint>`, see `endpointKey`), so /metrics describes the configuration in effect, not every one since the start.
   */
  async retain(apis: ReadonlySet<string>, endpoints: ReadonlySet<string>): Promise<void> {
    this.#requestStats.retain(apis);
    const byApi = [
      this.modelFallbacks,
      this.upstreamErrors,
      this.retries,
      this.policyRejections,
      this.validationViolations,
      this.cacheLookups,
      this.tokens,
      this.deprecatedCalls,
      this.genAiTokens,
      this.genAiTimeToFirstToken,
      this.genAiRequestDuration,
    ] as const;
    for (const { metric } of byApi) {
      for (const { labels } of (await metric.get()).values) {
        const ref = refOf(String(labels.namespace ?? ''), String(labels.api ?? ''));
        // A histogram's samples carry `le` (and _sum/_count none): its series are keyed without it.
        const { le: _le, ...series } = labels as Record<string, string | number>;
        if (ref !== '' && !apis.has(ref)) (metric as Counter<string>).remove(series as Record<string, string>);
      }
    }
    for (const { labels } of (await this.endpointHealthy.get()).values)
      if (!endpoints.has(`${labels.namespace}\0${labels.api}\0${labels.version}\0${labels.endpoint}`))
        this.endpointHealthy.remove(labels as Record<string, string>);
  }

  /** Sets the health of one endpoint of a cluster. */
  setEndpointHealth(cluster: string, endpoint: string, healthy: boolean): void {
    const [namespace, api, version] = clusterLabels(cluster);
    this.endpointHealthy.labels(namespace, api, version, endpoint).set(healthy ? 1 : 0);
  }

  /** The key `retain` knows an endpoint of a cluster by. */
  static endpointKey(cluster: string, endpoint: string): string {
    return `${clusterLabels(cluster).join('\0')}\0${endpoint}`;
  }

  /** Counts one answer the gateway made itself (head and body at once) and its latency. */
  observeRequest(api: string, version: string, code: number, seconds: number): void {
    this.#requestStats.observe(api, version, code, seconds).end(seconds);
  }

  /** Counts an answer whose head went out now; its stats take the end (`end(seconds)`) when the last byte went out. */
  observeHead(api: string, version: string, code: number, seconds: number): RouteStats {
    return this.#requestStats.observe(api, version, code, seconds);
  }
}
