/**
 * The shared store (rate limits and the response cache across replicas) over the life of the gateway: opened when a
 * ModelGateway configures Redis, replaced when any of its settings change (URL, a rotated password, CA, timeout,
 * failure mode), closed when the settings go.
 */
import { isDeepStrictEqual } from 'node:util';
import type { DataPlane } from '../dataplane/data-plane.ts';
import type { Logger } from '../observability/logger.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { GlobalRateLimiter } from '../policies/rate-limit/global-limiter.ts';
import type { Snapshot } from '../snapshot/types.ts';

/** Opens, replaces or closes the data plane's shared store for a snapshot's Redis settings. */
export function useRedis(
  dataPlane: DataPlane,
  redis: Snapshot['gateway']['redis'],
  log: Logger,
  metrics: GatewayMetrics,
): void {
  const current = dataPlane.globalLimiter;
  const { logger: _l, onError: _e, ...settings } = current?.options ?? {};
  const same = current !== undefined && redis !== undefined && isDeepStrictEqual(settings, redis);
  if (same || (!current && !redis)) return;
  void current?.close();
  dataPlane.globalLimiter = redis
    ? new GlobalRateLimiter({ ...redis, logger: log, onError: () => metrics.rateLimitStoreErrors.inc() })
    : undefined;
  dataPlane.cache.useRedis(dataPlane.globalLimiter?.redis);
}
