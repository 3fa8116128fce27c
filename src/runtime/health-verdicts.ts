/**
 * What the health checks say about each ModelAPI: a version whose endpoints all fail their active health checks cannot
 * answer (its requests get 503), so its API is not Ready — whatever the compiler concluded from the endpoints it was
 * given. Pure: the snapshot's routes say which cluster serves which version, `health` what the checkers found now.
 */
import { type ConditionInput, condition, type ResourceStatus } from '../resources/status.ts';
import type { Snapshot } from '../snapshot/types.ts';

/** Endpoints of a cluster in the data plane: how many pass their health checks, of how many. */
export type ClusterHealth = (cluster: string) => { readonly healthy: number; readonly total: number } | undefined;

/**
 * The `Ready` condition each ModelAPI gets from the health checks: `False`/`NoHealthyEndpoints` naming the versions
 * without a healthy endpoint, or undefined where the compiler's verdict stands (all good, or already not Ready).
 */
export function healthVerdicts(
  snapshot: Snapshot,
  compiled: readonly ResourceStatus[],
  health: ClusterHealth,
): Map<string, ConditionInput | undefined> {
  // ModelAPI ref → version → cluster, from the rules (a version's rules all go to its one cluster).
  const versions = new Map<string, Map<string, string>>();
  for (const rule of snapshot.routes) {
    if (!rule.source.startsWith('ModelAPI/') || rule.action.type !== 'Forward') continue;
    let byVersion = versions.get(rule.source);
    if (!byVersion) {
      byVersion = new Map();
      versions.set(rule.source, byVersion);
    }
    for (const b of rule.action.backends) if (b.version !== undefined) byVersion.set(b.version, b.cluster);
  }
  const verdicts = new Map<string, ConditionInput | undefined>();
  for (const status of compiled) {
    const byVersion = versions.get(status.ref);
    if (!byVersion) continue;
    const ready = status.conditions.find((c) => c.type === 'Ready');
    if (ready?.status !== 'True') {
      verdicts.set(status.ref, undefined);
      continue;
    }
    const down: string[] = [];
    for (const [version, cluster] of byVersion) {
      const h = health(cluster);
      if (h && h.total > 0 && h.healthy === 0) down.push(`${version} (0 of ${h.total})`);
    }
    verdicts.set(
      status.ref,
      down.length > 0
        ? condition(
            'Ready',
            'False',
            'NoHealthyEndpoints',
            `no endpoint passes its health check for version(s) ${down.join(', ')}; their requests are answered 503`,
          )
        : undefined,
    );
  }
  return verdicts;
}
