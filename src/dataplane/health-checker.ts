/** Active health checks: probe each endpoint's ready path on an interval and flip `healthy` by thresholds. */
import type { ActiveHealthCheck } from '../snapshot/types.ts';
import type { Endpoint } from './endpoint.ts';
import { exchangeStatus } from './upstream/transport.ts';

/** Probes one endpoint until stopped. The first probe runs at once so a dead endpoint is found quickly. */
export class HealthChecker {
  #timer: NodeJS.Timeout | undefined;
  #successes = 0;
  #failures = 0;
  #stopped = false;
  /** Called after each probe with the endpoint's health (metrics and status). */
  onResult: ((healthy: boolean) => void) | undefined;

  readonly endpoint: Endpoint;
  readonly config: ActiveHealthCheck;
  /** Request line headers of every probe: the cluster's own request headers (a token, a routing header), the Host. */
  readonly #headers: readonly string[];

  constructor(
    endpoint: Endpoint,
    config: ActiveHealthCheck,
    hostHeader: string | undefined,
    requestHeaders: readonly (readonly [string, string])[] = [],
  ) {
    this.endpoint = endpoint;
    this.config = config;
    const own = requestHeaders.filter(([name]) => name !== 'host' && name !== 'user-agent').flat();
    this.#headers = ['user-agent', 'modelgate-health-check', ...(hostHeader ? ['host', hostHeader] : []), ...own];
  }

  start(): void {
    void this.#probe();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  async #probe(): Promise<void> {
    if (this.#stopped) return;
    let ok = false;
    try {
      const status = await exchangeStatus(this.endpoint.pool, {
        path: this.config.path,
        method: 'GET',
        headers: this.#headers as string[],
        body: null,
        headersTimeout: this.config.timeoutMs,
        timeoutMs: this.config.timeoutMs,
      });
      ok = status >= 200 && status < 300;
    } catch {
      ok = false;
    }
    if (this.#stopped) return;
    if (ok) {
      this.#failures = 0;
      if (++this.#successes >= this.config.healthyThreshold) this.endpoint.healthy = true;
    } else {
      this.#successes = 0;
      if (++this.#failures >= this.config.unhealthyThreshold) this.endpoint.healthy = false;
    }
    this.onResult?.(this.endpoint.healthy);
    this.#timer = setTimeout(() => void this.#probe(), this.config.intervalMs);
    this.#timer.unref();
  }
}
