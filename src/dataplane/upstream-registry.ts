/**
 * Stateful upstream parts that must outlive snapshots: connection pools (per origin), endpoints with their health
 * (per origin + health settings) and health checkers. Each snapshot acquires what it needs and releases it when it is
 * retired, so an unchanged upstream keeps its warm connections and health state across reloads, and a removed one
 * is closed after its last in-flight request.
 */
import { createHash } from 'node:crypto';
import type { Cluster } from '../snapshot/types.ts';
import { type Balancer, LeastRequestBalancer, RoundRobinBalancer } from './balancer.ts';
import { InferenceAwareBalancer } from './balancing/inference-balancer.ts';
import { MetricsScraper } from './balancing/metrics-scraper.ts';
import { Endpoint } from './endpoint.ts';
import { HealthChecker } from './health-checker.ts';
import { RetryBudget } from './retry-budget.ts';
import { NativePool } from './upstream/native-pool.ts';
import type { TransportKind, UpstreamOrigin, UpstreamTransport } from './upstream/transport.ts';
import { UndiciPool } from './upstream/undici-pool.ts';

/**
 * A cluster bound to live endpoints, with its retry budget. A class (methods on the prototype): ten thousand
 * clusters would otherwise each hold their own closures.
 */
export class RuntimeCluster {
  readonly config: Cluster;
  readonly endpoints: readonly Endpoint[];
  readonly balancer: Balancer;
  readonly retryBudget = new RetryBudget();
  /** The registry entries it holds (released with it), and the transport its pools were made with. */
  readonly keys: readonly EndpointKeys[];

  constructor(config: Cluster, endpoints: readonly Endpoint[], balancer: Balancer, keys: readonly EndpointKeys[]) {
    this.config = config;
    this.endpoints = endpoints;
    this.balancer = balancer;
    this.keys = keys;
  }

  /** Whether passive ejection may take one more endpoint out without crossing maxEjectionPercent. */
  mayEject(): boolean {
    const now = Date.now();
    const ejected = this.endpoints.filter((e) => e.ejected(now)).length;
    return ((ejected + 1) * 100) / this.endpoints.length <= this.config.passiveHealthCheck.maxEjectionPercent;
  }
}

interface Counted<T> {
  value: T;
  refs: number;
}

/** Options for connection pools. */
export interface PoolOptions {
  /** Connections per origin (keep-alive); requests beyond them wait in order. */
  readonly connections: number;
  /** Which HTTP/1.1 client carries upstream requests (default native). */
  readonly transport?: TransportKind;
}

/** A transport of the kind asked for. */
export function createTransport(kind: TransportKind, origin: UpstreamOrigin): UpstreamTransport {
  return kind === 'undici' ? new UndiciPool(origin) : new NativePool(origin);
}

/** Owns pools, endpoints and health checkers; reference-counted by the snapshots that use them. */
export class UpstreamRegistry {
  readonly #pools = new Map<string, Counted<UpstreamTransport>>();
  readonly #endpoints = new Map<string, Counted<EndpointEntry>>();
  /** Observers of health changes: (cluster name, origin, healthy). */
  onHealth: ((cluster: string, origin: string, healthy: boolean) => void) | undefined;

  readonly poolOptions: PoolOptions;
  /**
   * The client new pools are made with (the ModelGateway's `spec.upstream.transport`); a change makes new pools for
   * the clusters of the next snapshot, and the old ones close after their last request.
   */
  transport: TransportKind;
  constructor(poolOptions: PoolOptions = { connections: 128 }) {
    this.poolOptions = poolOptions;
    this.transport = poolOptions.transport ?? 'native';
  }

  /** Binds a cluster to live endpoints, creating pools and health checkers that do not exist yet. */
  acquire(cluster: Cluster): RuntimeCluster {
    const keys = keysOf(cluster, this.transport);
    const endpoints = cluster.endpoints.map((e, i) => this.#acquireEndpoint(cluster, e.origin, e.ready, keys[i]!));
    const balancer: Balancer =
      cluster.loadBalancer === 'RoundRobin'
        ? new RoundRobinBalancer(endpoints)
        : cluster.loadBalancer === 'InferenceAware' && cluster.inference
          ? new InferenceAwareBalancer(endpoints, cluster.inference)
          : new LeastRequestBalancer(endpoints);
    return new RuntimeCluster(cluster, endpoints, balancer, keys);
  }

  /**
   * Takes one more reference on everything `runtime` holds, as acquire() would have, so a new snapshot can keep an
   * unchanged cluster's runtime. False (and nothing taken) when some of it is already gone, or its pools are of
   * another transport than the one now configured.
   */
  retain(runtime: RuntimeCluster): boolean {
    if (runtime.keys !== keysOf(runtime.config, this.transport)) return false;
    const keys = runtime.keys.map((k) => ({
      endpoint: this.#endpoints.get(k.endpoint),
      pool: this.#pools.get(k.pool),
    }));
    if (keys.some((k) => k.endpoint === undefined || k.pool === undefined)) return false;
    for (const k of keys) {
      k.endpoint!.refs++;
      k.pool!.refs++;
    }
    return true;
  }

  /** Releases what acquire() and retain() took; pools and checkers nobody uses any more are closed. */
  release(runtime: RuntimeCluster): void {
    for (const k of runtime.keys) this.#releaseEndpoint(k.endpoint, k.pool);
  }

  /** Number of open pools (tests and metrics). */
  get poolCount(): number {
    return this.#pools.size;
  }

  /** The pool for an origin, if open (tests). */
  poolFor(origin: string): UpstreamTransport | undefined {
    return this.#pools.get(origin)?.value;
  }

  /** Closes every pool and checker at once (shutdown after draining). */
  async close(): Promise<void> {
    for (const { value } of this.#endpoints.values()) stopEntry(value);
    this.#endpoints.clear();
    const pools = [...this.#pools.values()].map((p) => p.value);
    this.#pools.clear();
    await Promise.allSettled(pools.map((p) => p.close()));
  }

  #acquireEndpoint(cluster: Cluster, origin: string, ready: boolean, keys: EndpointKeys): Endpoint {
    const key = keys.endpoint;
    const existing = this.#endpoints.get(key);
    if (existing) {
      existing.refs++;
      this.#acquirePool(origin, cluster, keys.pool);
      return existing.value.endpoint;
    }
    const pool = this.#acquirePool(origin, cluster, keys.pool);
    const endpoint = new Endpoint(origin, pool, ready, cluster.passiveHealthCheck);
    let checker: HealthChecker | undefined;
    if (cluster.activeHealthCheck && ready) {
      checker = new HealthChecker(endpoint, cluster.activeHealthCheck, cluster.hostHeader, cluster.requestHeaders);
      checker.onResult = (healthy) => this.onHealth?.(cluster.name, origin, healthy);
      checker.start();
    }
    const entry: EndpointEntry = checker ? { endpoint, checker } : { endpoint };
    const scrape = cluster.inference?.metrics;
    if (scrape && ready) {
      // Another port than the serving one gets a connection of its own; the serving port shares the endpoint's pool.
      const own =
        scrape.port !== undefined
          ? createTransport(this.transport, {
              origin: withPort(origin, scrape.port),
              connections: 1,
              connectTimeoutMs: cluster.connectTimeoutMs,
              ...(cluster.tls ? { tls: cluster.tls } : {}),
            })
          : undefined;
      entry.scraper = new MetricsScraper(endpoint, scrape, own ?? pool, cluster.basePath, cluster.hostHeader);
      if (own) entry.scrapeTransport = own;
      entry.scraper.start();
    }
    this.#endpoints.set(key, { value: entry, refs: 1 });
    return endpoint;
  }

  #releaseEndpoint(key: string, pooled: string): void {
    const entry = this.#endpoints.get(key);
    if (entry && --entry.refs === 0) {
      stopEntry(entry.value);
      this.#endpoints.delete(key);
    }
    const pool = this.#pools.get(pooled);
    if (pool && --pool.refs === 0) {
      this.#pools.delete(pooled);
      // close() lets in-flight requests finish before the sockets go.
      void pool.value.close().catch(() => {});
    }
  }

  #acquirePool(origin: string, cluster: Cluster, key: string): UpstreamTransport {
    const existing = this.#pools.get(key);
    if (existing) {
      existing.refs++;
      return existing.value;
    }
    const pool = createTransport(this.transport, {
      origin,
      connections: this.poolOptions.connections,
      connectTimeoutMs: cluster.connectTimeoutMs,
      // HTTPS backends: the certificate is verified (against the cluster's CA when it names one), with SNI.
      ...(cluster.tls ? { tls: cluster.tls } : {}),
    });
    this.#pools.set(key, { value: pool, refs: 1 });
    return pool;
  }
}

/** An endpoint with what watches it: health probes, and load scrapes for InferenceAware clusters. */
interface EndpointEntry {
  endpoint: Endpoint;
  checker?: HealthChecker;
  scraper?: MetricsScraper;
  /** The scraper's own connection (a metrics port other than the serving one). */
  scrapeTransport?: UpstreamTransport;
}

function stopEntry(entry: EndpointEntry): void {
  entry.checker?.stop();
  entry.scraper?.stop();
  void entry.scrapeTransport?.close().catch(() => {});
}

/** `origin` with another port. */
function withPort(origin: string, port: number): string {
  const url = new URL(origin);
  url.port = String(port);
  return url.origin;
}

/** Where an endpoint's shared state lives in the registry. */
export interface EndpointKeys {
  readonly endpoint: string;
  readonly pool: string;
}

/**
 * The endpoint and pool keys of a cluster's endpoints, once per cluster object (and transport): every reload retains
 * the unchanged clusters and releases the old snapshot's, and a key built anew is a long string flattened again for
 * each lookup.
 */
const clusterKeys = new WeakMap<Cluster, { transport: TransportKind; keys: readonly EndpointKeys[] }>();
function keysOf(cluster: Cluster, transport: TransportKind): readonly EndpointKeys[] {
  const cached = clusterKeys.get(cluster);
  if (cached?.transport === transport) return cached.keys;
  const keys = cluster.endpoints.map((e) => {
    // Pools of different transports are different pools.
    const pool = transport === 'native' ? poolKey(e.origin, cluster) : `${transport} ${poolKey(e.origin, cluster)}`;
    return { endpoint: `${pool} ${e.ready} ${healthKey(cluster)}`, pool };
  });
  clusterKeys.set(cluster, { transport, keys });
  return keys;
}

/** The probe settings part of endpoint keys, once per cluster object (reused across reloads with its ModelAPI). */
const healthKeys = new WeakMap<Cluster, string>();
function healthKey(cluster: Cluster): string {
  let key = healthKeys.get(cluster);
  if (key === undefined) {
    // Scrape settings too: a changed scrape is a new endpoint entry with its own scraper.
    key = `${JSON.stringify(cluster.activeHealthCheck ?? null)} ${JSON.stringify(cluster.passiveHealthCheck)} ${cluster.hostHeader ?? ''} ${JSON.stringify(cluster.inference?.metrics ?? null)} ${cluster.basePath} ${JSON.stringify(cluster.requestHeaders ?? null)}`;
    healthKeys.set(cluster, key);
  }
  return key;
}

/** Connections are shared by origin and TLS settings (another CA or client certificate is another pool). */
function poolKey(origin: string, cluster: Cluster): string {
  const tls = cluster.tls;
  if (!tls) return origin;
  return `${origin} ${createHash('sha256').update(JSON.stringify(tls)).digest('base64url')}`;
}
