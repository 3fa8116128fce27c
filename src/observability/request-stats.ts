/**
 * The two metrics every request updates — requests by status and the latency histogram — kept as plain numbers per
 * (API, version) and turned into Prometheus samples only when scraped. prom-client's own observe() converts, validates
 * and hashes the labels on every call (a few µs per request, measured in the bench profile); here a request costs two
 * map lookups on strings the route already holds, a bucket scan and three additions.
 *
 * Both are registered in the gateway's prom-client registry as custom metrics (prom-client formats anything with a
 * name, help, type and get()), so /metrics and its content types are unchanged.
 */

/** One latency histogram's numbers. */
class Latency {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;

  constructor(bucketCount: number) {
    this.buckets = new Float64Array(bucketCount + 1);
  }

  observe(bounds: readonly number[], seconds: number): void {
    let b = 0;
    while (b < bounds.length && seconds > bounds[b]!) b++;
    this.buckets[b]!++;
    this.sum += seconds;
    this.count++;
  }
}

import { apiLabels } from './api-labels.ts';

/** Counts of one (API, version). */
export class RouteStats {
  readonly api: string;
  readonly version: string;
  /** Requests by status code. */
  readonly codes = new Map<number, number>();
  /** Until the response head went out. */
  readonly head: Latency;
  /** Until the last byte went out. */
  readonly whole: Latency;
  readonly #bounds: readonly number[];

  constructor(api: string, version: string, bounds: readonly number[]) {
    this.api = api;
    this.version = version;
    this.#bounds = bounds;
    this.head = new Latency(bounds.length);
    this.whole = new Latency(bounds.length);
  }

  /** The response's last byte went out `seconds` after the request arrived. */
  end(seconds: number): void {
    this.whole.observe(this.#bounds, seconds);
  }
}

/** A sample as prom-client's registry formats it. */
interface Sample {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/** The shape prom-client's Registry expects from a metric. */
export interface CustomMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }>;
  reset(): void;
}

/** Requests and their latency per (API, version). */
export class RequestStats {
  readonly #bounds: readonly number[];
  readonly #byApi = new Map<string, Map<string, RouteStats>>();

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
  }

  /**
   * Records an answer whose head went out `seconds` after the request arrived; the returned stats take its end
   * (`end(seconds)`) once the last byte went out.
   */
  observe(api: string, version: string, code: number, seconds: number): RouteStats {
    let versions = this.#byApi.get(api);
    if (versions === undefined) {
      versions = new Map();
      this.#byApi.set(api, versions);
    }
    let stats = versions.get(version);
    if (stats === undefined) {
      stats = new RouteStats(api, version, this.#bounds);
      versions.set(version, stats);
    }
    stats.codes.set(code, (stats.codes.get(code) ?? 0) + 1);
    stats.head.observe(this.#bounds, seconds);
    return stats;
  }

  /** Forgets the series of APIs not in `apis` (removed by a reload); '' (requests no API matched) stays. */
  retain(apis: ReadonlySet<string>): void {
    for (const api of this.#byApi.keys()) if (api !== '' && !apis.has(api)) this.#byApi.delete(api);
  }

  /** `modelgate_requests_total`-style counter of requests by api, version and code. */
  counter(name: string, help: string): CustomMetric {
    const collect = (): Sample[] => {
      const values: Sample[] = [];
      for (const s of this.#all()) {
        const [namespace, api] = apiLabels(s.api);
        for (const [code, n] of s.codes)
          values.push({ labels: { namespace, api, version: s.version, code }, value: n });
      }
      return values;
    };
    return this.#metric(name, help, 'counter', collect);
  }

  /** A latency histogram by api and version (cumulative buckets, sum, count): to the head, or to the last byte. */
  histogram(name: string, help: string, until: 'head' | 'whole'): CustomMetric {
    const collect = (): Sample[] => {
      const values: Sample[] = [];
      for (const route of this.#all()) {
        const s = route[until];
        const [namespace, api] = apiLabels(route.api);
        const labels = { namespace, api, version: route.version };
        let cumulative = 0;
        for (let i = 0; i <= this.#bounds.length; i++) {
          cumulative += s.buckets[i]!;
          const le = i < this.#bounds.length ? this.#bounds[i]! : '+Inf';
          values.push({ metricName: `${name}_bucket`, labels: { le, ...labels }, value: cumulative });
        }
        values.push({ metricName: `${name}_sum`, labels, value: s.sum });
        values.push({ metricName: `${name}_count`, labels, value: s.count });
      }
      return values;
    };
    return this.#metric(name, help, 'histogram', collect);
  }

  #metric(name: string, help: string, type: 'counter' | 'histogram', collect: () => Sample[]): CustomMetric {
    return {
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: collect() }),
      reset: () => this.#byApi.clear(),
    };
  }

  *#all(): Iterable<RouteStats> {
    for (const versions of this.#byApi.values()) yield* versions.values();
  }
}
