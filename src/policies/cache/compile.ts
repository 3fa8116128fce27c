/** The response cache at compile time: Redis when the ModelGateway configures it (unless `store: memory`). */
import { durationMs } from '../../common/durations.ts';
import type { CompileStep } from '../compile-step.ts';

export const cacheCompile: CompileStep<'cache'> = {
  field: 'cache',
  compile({ api, gateway, id, problems }) {
    const spec = api.spec.cache;
    if (!spec) return undefined;
    const wanted = spec.store ?? 'auto';
    if (wanted === 'redis' && !gateway?.spec.redis)
      problems.push('cache.store redis needs spec.redis in the ModelGateway; caching per replica meanwhile');
    return {
      id,
      ttlMs: durationMs(spec.ttl) ?? 300_000,
      maxEntryBytes: spec.maxEntryBytes ?? 1024 * 1024,
      varyHeaders: (spec.varyHeaders ?? []).map((h) => h.toLowerCase()),
      store: wanted !== 'memory' && gateway?.spec.redis ? 'redis' : 'memory',
    };
  },
};
