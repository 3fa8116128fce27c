/**
 * The compiler: a pure, total function from the current resources to a snapshot plus a status per resource.
 * No I/O, no clock, no randomness; a mistake in one resource becomes a condition on it and the rest still compiles.
 *
 * Passes, in order:
 *  1. pick the ModelGateway (the oldest wins; others are told they are ignored) and settle gateway-wide settings;
 *  2. index Services and EndpointSlices once;
 *  3. compile each ModelAPI, oldest first (creation time, then namespace/name), so older resources win conflicts;
 *  4. drop the rules of a ModelAPI whose public paths another, older one already serves on an overlapping host,
 *     and report the conflict on the loser;
 *  5. emit everything sorted, so equal inputs give byte-identical outputs.
 */

import { type ConditionInput, condition, type ResourceStatus } from '../resources/status.ts';
import type { ResourceSet } from '../resources/types.ts';
import type { ModelAPI } from '../schema/model-api.ts';
import type { ModelGateway } from '../schema/model-gateway.ts';
import type { Cluster, GatewaySettings, RouteRule, Snapshot } from '../snapshot/types.ts';
import { type CompiledModelAPI, compileModelAPI } from './compile-model-api.ts';
import { DEFAULT_DRAIN_MS, DEFAULT_PUBLIC_URL } from './defaults.ts';
import { durationMs } from './durations.ts';
import { indexBackends } from './resolve-backend.ts';

/** Inputs that do not come from resources (command-line flags). */
export interface CompileOptions {
  /** Public URL when no ModelGateway sets one (e.g. derived from --port). */
  readonly defaultPublicURL?: string;
}

/** The compiler's output. */
export interface CompileResult {
  readonly snapshot: Snapshot;
  readonly statuses: readonly ResourceStatus[];
}

/** Compiles resources into a snapshot and statuses. */
export function compileSnapshot(resources: ResourceSet, options: CompileOptions = {}): CompileResult {
  const statuses: ResourceStatus[] = [];
  const gateways = [...resources.modelGateways].sort(byAge);
  const gateway = gateways[0];
  for (const ignored of gateways.slice(1)) {
    statuses.push(
      statusOf('ModelGateway', ignored, [
        condition(
          'Accepted',
          'False',
          'Superseded',
          `ModelGateway ${nsName(gateway!)} is older and in effect; only one is used`,
        ),
      ]),
    );
  }
  if (gateway)
    statuses.push(statusOf('ModelGateway', gateway, [condition('Accepted', 'True', 'Accepted', 'in effect')]));
  const settings = gatewaySettings(gateway, options);

  const index = indexBackends(resources.services, resources.endpointSlices);
  const compiled = [...resources.modelApis]
    .sort(byAge)
    .map((api) => ({ api, result: compileModelAPI(api, index, gateway?.spec.defaults, settings.publicURL) }));

  const claimed = new Map<string, string>(); // host + match key → owning ModelAPI ref
  const routes: RouteRule[] = [];
  const clusters: Record<string, Cluster> = {};
  const apis: Snapshot['apis'][number][] = [];
  for (const { api, result } of compiled) {
    const conflict = findConflict(result, claimed);
    let conditions = result.conditions;
    if (conflict) {
      conditions = [
        condition(
          'Accepted',
          'False',
          'PathConflict',
          `public path ${conflict.path} is already served by ${conflict.owner}`,
        ),
        ...result.conditions.filter((c) => c.type !== 'Accepted' && c.type !== 'Ready'),
        condition('Ready', 'False', 'NotAccepted', 'not accepted'),
      ];
    } else if (result.rules.length > 0) {
      for (const key of claimKeys(result)) claimed.set(key.key, result.ref);
      routes.push(...result.rules);
      for (const c of result.clusters) clusters[c.name] = c;
      apis.push(result.summary);
    }
    statuses.push({
      ref: result.ref,
      ...(api.metadata.generation !== undefined ? { observedGeneration: api.metadata.generation } : {}),
      conditions,
      fields: conflict ? {} : result.statusFields,
    });
  }
  statuses.sort((a, b) => a.ref.localeCompare(b.ref));
  return { snapshot: { gateway: settings, routes, clusters: sortKeys(clusters), apis }, statuses };
}

function gatewaySettings(gateway: ModelGateway | undefined, options: CompileOptions): GatewaySettings {
  const spec = gateway?.spec;
  return {
    publicURL: (spec?.publicURL ?? options.defaultPublicURL ?? DEFAULT_PUBLIC_URL).replace(/\/+$/, ''),
    title: spec?.docs?.title ?? 'Model APIs',
    description: spec?.docs?.description ?? '',
    drainTimeoutMs: durationMs(spec?.defaults?.drainTimeout) ?? DEFAULT_DRAIN_MS,
  };
}

/** Keys a ModelAPI claims: (host, path match, method). A catch-all host and a specific host do not overlap. */
function claimKeys(result: CompiledModelAPI): { key: string; path: string }[] {
  const hosts = result.summary.hostnames.length > 0 ? result.summary.hostnames : ['*any*'];
  return result.rules.flatMap((rule) =>
    rule.matches.flatMap((m) =>
      hosts.map((h) => ({ key: `${h} ${m.path.type} ${m.path.value} ${m.method ?? ''}`, path: m.path.value })),
    ),
  );
}

function findConflict(
  result: CompiledModelAPI,
  claimed: Map<string, string>,
): { owner: string; path: string } | undefined {
  for (const { key, path } of claimKeys(result)) {
    const owner = claimed.get(key);
    if (owner && owner !== result.ref) return { owner, path };
  }
  return undefined;
}

function statusOf(kind: string, obj: ModelAPI | ModelGateway, conditions: ConditionInput[]): ResourceStatus {
  return {
    ref: `${kind}/${nsName(obj)}`,
    ...(obj.metadata.generation !== undefined ? { observedGeneration: obj.metadata.generation } : {}),
    conditions,
  };
}

function byAge(a: ModelAPI | ModelGateway, b: ModelAPI | ModelGateway): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta !== tb ? (ta < tb ? -1 : 1) : nsName(a).localeCompare(nsName(b));
}

function nsName(obj: { metadata: { name: string; namespace?: string | undefined } }): string {
  return `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
