/**
 * The model index of the gateway's OpenAI endpoint: which ModelAPI (and version) serves each model id. Ids come from
 * each OpenAI-compatible version's `GET /v1/models` (a discovery task the spec fetcher runs, the same one the docs
 * use — its answer refreshes like theirs) and from the ModelAPI's declared `modelAliases`. A model every version
 * serves goes to the API's own prefix (its weighted split and version pin apply); one only some versions serve goes
 * to the first of those versions' prefix. An id two ModelAPIs claim goes to the older one and is reported on both,
 * like path conflicts. Pure.
 */
import { durationMs } from '../common/durations.ts';
import { openAIModelIds } from '../protocols/openai/document.ts';
import { type ConditionInput, condition } from '../resources/status.ts';
import type { ModelGateway } from '../schema/model-gateway.ts';

type GatewayDefaults = NonNullable<ModelGateway['spec']['defaults']>;

import { type Discovered, type FetchTask, fetchKey } from '../snapshot/discovery.ts';
import type { ModelTarget, OpenAIEndpoint } from '../snapshot/types.ts';
import { DEFAULT_MAX_BODY_BYTES } from './defaults.ts';
import type { ServedApi } from './docs/build-docs.ts';
import { DEFAULT_REFRESH_MS } from './docs/version-source.ts';

export const DEFAULT_OPENAI_PATH = '/v1';

export interface ModelIndex {
  readonly endpoint?: OpenAIEndpoint;
  /** Model-list fetches the endpoint needs (merged with the docs' tasks; equal keys are one fetch). */
  readonly tasks: readonly FetchTask[];
  /** A `ModelsRouted` condition per OpenAI-compatible ModelAPI, by ref. */
  readonly conditions: ReadonlyMap<string, ConditionInput>;
}

/** The path of the endpoint, or undefined when it is off. */
export function openAIEndpointPath(gateway: ModelGateway | undefined): string | undefined {
  const settings = gateway?.spec.openAIEndpoint;
  if (settings?.enabled === false) return undefined;
  return settings?.path ?? DEFAULT_OPENAI_PATH;
}

/** Builds the index from the served APIs, oldest first (the order claims are decided in). */
export function compileModelIndex(
  served: readonly ServedApi[],
  discovered: Discovered,
  prefix: string | undefined,
  defaults: GatewayDefaults | undefined,
): ModelIndex {
  const conditions = new Map<string, ConditionInput>();
  const openai = served.filter((s) => s.api.spec.protocol === 'openai');
  if (prefix === undefined || openai.length === 0) return { tasks: [], conditions };
  const tasks: FetchTask[] = [];
  const models: Record<string, ModelTarget> = {};
  const lost = new Map<string, string[]>(); // ref → "id (served by …)"
  const shared = new Map<string, string[]>(); // winner ref → "id (also …)"
  let maxBodyBytes = 0;
  for (const { api, summary, maxRequestBodyBytes } of openai) {
    maxBodyBytes = Math.max(maxBodyBytes, maxRequestBodyBytes);
    const refreshMs = durationMs(api.spec.docs?.refreshInterval) ?? DEFAULT_REFRESH_MS;
    const byVersion = summary.versions.map((v) => {
      const task: FetchTask = {
        kind: 'openai-models',
        key: fetchKey('openai-models', 'GET', `${v.cluster}/v1/models`),
        method: 'GET',
        cluster: v.cluster,
        path: '/v1/models',
        refreshMs,
      };
      tasks.push(task);
      return { version: v, ids: new Set(openAIModelIds(discovered.get(task.key)?.last?.body) ?? []) };
    });
    const ownedBy = `${summary.namespace}/${summary.name}`;
    const targets = new Map<string, ModelTarget>();
    for (const { ids } of byVersion)
      for (const id of ids) {
        if (targets.has(id)) continue;
        const servedBy = byVersion.filter((v) => v.ids.has(id));
        const everywhere = servedBy.length === byVersion.length;
        targets.set(id, {
          ref: summary.ref,
          ownedBy,
          prefix: everywhere ? summary.pathPrefix : servedBy[0]!.version.path,
        });
      }
    for (const alias of api.spec.modelAliases ?? []) {
      const to = targets.get(alias.model);
      targets.set(alias.name, {
        ref: summary.ref,
        ownedBy,
        prefix: to?.prefix ?? summary.pathPrefix,
        ...(alias.name !== alias.model ? { upstreamModel: alias.model } : {}),
      });
    }
    for (const f of api.spec.modelFallbacks ?? []) {
      const target = targets.get(f.model);
      if (target) targets.set(f.model, { ...target, fallbacks: f.fallbacks.filter((m) => m !== f.model) });
    }
    for (const [id, target] of targets) {
      const owner = models[id];
      if (owner && owner.ref !== target.ref) {
        lost.set(target.ref, [...(lost.get(target.ref) ?? []), `${id} (served by ${owner.ref})`]);
        shared.set(owner.ref, [...(shared.get(owner.ref) ?? []), `${id} (also claimed by ${target.ref})`]);
        continue;
      }
      models[id] = target;
    }
  }
  for (const { summary } of openai) {
    const ids = Object.entries(models)
      .filter(([, t]) => t.ref === summary.ref)
      .map(([id]) => id);
    const losing = lost.get(summary.ref);
    const winning = shared.get(summary.ref);
    conditions.set(
      summary.ref,
      losing
        ? condition('ModelsRouted', 'False', 'ModelConflict', `not routed at ${prefix}: ${losing.join(', ')}`)
        : condition(
            'ModelsRouted',
            'True',
            ids.length > 0 ? 'Routed' : 'NoModels',
            `${ids.length > 0 ? `${prefix} routes ${ids.sort().join(', ')}` : `no model id known yet (GET /v1/models of its versions)`}${winning ? `; conflict: ${winning.join(', ')}` : ''}`,
          ),
    );
  }
  return {
    endpoint: {
      prefix,
      models,
      maxBodyBytes: maxBodyBytes || (defaults?.maxRequestBodyBytes ?? DEFAULT_MAX_BODY_BYTES),
    },
    tasks,
    conditions,
  };
}
