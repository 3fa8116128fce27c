/**
 * Tracing over the life of the gateway: started when a ModelGateway configures it, replaced when its settings change
 * (the old exporter sends what it still holds first), stopped when the settings go.
 */
import { isDeepStrictEqual } from 'node:util';
import type { DataPlane } from '../dataplane/data-plane.ts';
import { Tracing } from '../dataplane/tracing/tracing.ts';
import type { Logger } from '../observability/logger.ts';
import type { Snapshot } from '../snapshot/types.ts';

/** Starts, replaces or stops the data plane's tracing for a snapshot's settings. */
export function useTracing(dataPlane: DataPlane, settings: Snapshot['gateway']['tracing'], log: Logger): void {
  const current = dataPlane.tracing;
  if (current && settings && isDeepStrictEqual(current.settings, settings)) return;
  if (!current && !settings) return;
  void current?.shutdown();
  dataPlane.tracing = settings ? new Tracing(settings, (message) => log.warn(message)) : undefined;
}
