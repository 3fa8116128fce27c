/**
 * One upstream endpoint as the data plane sees it: its connection pool, its in-flight count (for least-request
 * balancing), and its health from active probes and passive outlier ejection.
 */
import type { PassiveHealthCheck } from '../snapshot/types.ts';
import type { UpstreamTransport } from './upstream/transport.ts';

/** The load a model server reports at its metrics endpoint (inference-aware balancing). */
export interface ReportedLoad {
  readonly waiting: number;
  readonly running: number;
  /** KV-cache use 0–1; NaN when the server does not export it. */
  readonly kvCache: number;
  /** When it was read (Date.now()). */
  readonly at: number;
  /** This gateway's in-flight count there at that moment (what changed since is added to the server's figures). */
  readonly activeAtScrape: number;
}

/** An endpoint that balancers can pick. */
export class Endpoint {
  /** Requests in flight through this endpoint. */
  active = 0;
  /** The server's own figures, from its last successful metrics scrape (InferenceAware clusters). */
  reported: ReportedLoad | undefined = undefined;
  /** Result of active health checks (true until a probe says otherwise). */
  healthy = true;
  /** Kubernetes readiness from the EndpointSlice. */
  readonly ready: boolean;
  #ejectedUntil = 0;
  #ejections = 0;
  #consecutiveFailures = 0;

  readonly origin: string;
  readonly pool: UpstreamTransport;
  readonly passive: PassiveHealthCheck;

  constructor(origin: string, pool: UpstreamTransport, ready: boolean, passive: PassiveHealthCheck) {
    this.origin = origin;
    this.pool = pool;
    this.ready = ready;
    this.passive = passive;
  }

  /** Whether new requests may be sent here now. */
  available(now: number): boolean {
    return this.ready && this.healthy && this.#ejectedUntil <= now;
  }

  /** Whether passive ejection currently excludes this endpoint. */
  ejected(now: number): boolean {
    return this.#ejectedUntil > now;
  }

  /** Records a successful exchange. */
  succeeded(): void {
    this.#consecutiveFailures = 0;
    if (this.#ejectedUntil === 0) this.#ejections = 0;
  }

  /**
   * Records a failure (connect error, reset, timeout, 5xx). After `consecutiveFailures` in a row the endpoint is ejected
   * for `ejectionTime × number of ejections` (capped at 10×), unless `mayEject` says too many already are.
   */
  failed(now: number, mayEject: () => boolean): void {
    this.#consecutiveFailures++;
    if (this.#consecutiveFailures < this.passive.consecutiveFailures || this.ejected(now) || !mayEject()) return;
    this.#ejections = Math.min(this.#ejections + 1, 10);
    this.#ejectedUntil = now + this.passive.ejectionTimeMs * this.#ejections;
    this.#consecutiveFailures = 0;
  }
}
