/** Built-in policy defaults, overridable gateway-wide (ModelGateway.spec.defaults) and per ModelAPI. */

import { durationMs } from '../common/durations.ts';
import { PROTOCOLS } from '../protocols/table.ts';
import type { HealthCheck, Protocol, Retries, Timeouts } from '../schema/model-api.ts';
import type { ModelGatewaySpec } from '../schema/model-gateway.ts';
import type { PassiveHealthCheck, RetryPolicy, RouteTimeouts } from '../snapshot/types.ts';

export const DEFAULT_PUBLIC_URL = 'http://127.0.0.1:8080';
export const DEFAULT_VERSION_HEADER = 'x-model-version';
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
export const DEFAULT_DRAIN_MS = 30_000;
export const DEFAULT_CONNECT_MS = 5_000;

type Defaults = NonNullable<ModelGatewaySpec['defaults']>;

/** Route timeouts: own value, else gateway default, else built-in. */
export function resolveTimeouts(
  own: Timeouts | undefined,
  defaults: Defaults | undefined,
): RouteTimeouts & { connectMs: number } {
  const pick = (k: keyof Timeouts) => durationMs(own?.[k] ?? defaults?.timeouts?.[k]);
  return {
    requestMs: pick('request') ?? 60_000,
    backendRequestMs: pick('backendRequest') ?? 0,
    idleMs: pick('idle') ?? 300_000,
    connectMs: pick('connect') ?? DEFAULT_CONNECT_MS,
  };
}

/** Retry policy: own value, else gateway default, else two retries of failures that never reached the model. */
export function resolveRetries(
  own: Retries | undefined,
  defaults: Defaults | undefined,
  protocol: Protocol,
): RetryPolicy {
  const r = own ?? defaults?.retries;
  return {
    attempts: r?.attempts ?? 2,
    on: r?.on ?? ['connect-failure', 'reset', 'gateway-error'],
    statuses: r?.statuses ?? [],
    nonIdempotent: r?.nonIdempotent ?? PROTOCOLS[protocol].retriesNonIdempotent,
    backoffMs: durationMs(r?.backoff) ?? 25,
    budgetPercent: r?.budgetPercent ?? 20,
  };
}

/** Passive ejection settings. */
export function resolvePassive(own: HealthCheck | undefined, defaults: Defaults | undefined): PassiveHealthCheck {
  const p = own?.passive ?? defaults?.healthCheck?.passive;
  return {
    consecutiveFailures: p?.consecutiveFailures ?? 5,
    ejectionTimeMs: durationMs(p?.ejectionTime) ?? 10_000,
    maxEjectionPercent: p?.maxEjectionPercent ?? 50,
  };
}
