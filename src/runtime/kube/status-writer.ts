/**
 * Writes the published statuses of modelgate's own resources back through the status subresource (merge patches,
 * only what changed since the last write) and records Events for notable condition changes — on the leader only.
 * A replica that becomes leader writes everything once, so nothing is lost across a failover.
 */
import {
  CustomObjectsApi,
  EventsV1Api,
  type KubeConfig,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { Logger } from '../../observability/logger.ts';
import { canonicalJson } from '../../openapi/openapi-walk.ts';
import type { Condition } from '../../resources/status.ts';
import type { PublishedStatus, StatusStore } from '../status-store.ts';

/** Kinds whose status modelgate writes (Gateway API ones only where it is their controller). */
const OWNED: Readonly<Record<string, { group: string; version: string; plural: string }>> = {
  ModelAPI: { group: 'modelgate.dev', version: 'v1alpha1', plural: 'modelapis' },
  ModelGateway: { group: 'modelgate.dev', version: 'v1alpha1', plural: 'modelgateways' },
  GatewayClass: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gatewayclasses' },
  Gateway: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gateways' },
  HTTPRoute: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' },
  InferencePool: { group: 'inference.networking.k8s.io', version: 'v1', plural: 'inferencepools' },
};

/** Conditions whose changes are worth an Event. */
const NOTABLE = new Set(['Accepted', 'Ready', 'ResolvedRefs', 'Documented', 'Compatible']);

/** Settings of the writer. */
export interface StatusWriterOptions {
  readonly kubeConfig: KubeConfig;
  readonly identity: string;
  readonly logger: Logger;
  readonly isLeader: () => boolean;
  /** The GatewayClass controllerName this gateway answers to (route statuses name it). */
  readonly controllerName?: string;
  /** The status the API server holds now (from the informer cache), to keep transition times and skip no-op writes. */
  readonly currentStatus?: (ref: string) => Record<string, unknown> | undefined;
  /** Imported ModelAPIs (by ModelAPI ref): their status goes to what they were imported from. */
  readonly imports?: () => ReadonlyMap<string, KubernetesObject>;
  /** Applied to every status before it is written or becomes an Event: no secret reaches the API server. */
  readonly redact?: <T>(value: T) => T;
}

/** Status and Event writer. */
export class KubeStatusWriter {
  readonly #o: StatusWriterOptions;
  readonly #custom: CustomObjectsApi;
  readonly #events: EventsV1Api;
  /** What was last written per ref (JSON), so unchanged statuses cost nothing. */
  readonly #written = new Map<string, string>();
  /** Conditions last seen per ref, to tell what changed for Events. */
  readonly #seen = new Map<string, readonly Condition[]>();
  /** Set after the first flush as leader: from then on condition changes are Events. */
  #baselineTaken = false;
  #store: StatusStore | undefined;
  #flushing: Promise<void> | undefined;
  #again = false;
  #eventCount = 0;

  constructor(options: StatusWriterOptions) {
    this.#o = options;
    this.#custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.#events = options.kubeConfig.makeApiClient(EventsV1Api);
  }

  /** The statuses changed: write what differs (when leading). */
  update(store: StatusStore): void {
    this.#store = store;
    this.#schedule();
  }

  /** This replica started or stopped leading. */
  leadershipChanged(leading: boolean): void {
    if (!leading) return;
    // A new leader knows nothing of what the previous one wrote: write everything once.
    this.#written.clear();
    this.#schedule();
  }

  /** Resolves once the writes scheduled so far are done (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  #schedule(): void {
    if (this.#flushing) {
      this.#again = true;
      return;
    }
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = undefined;
      if (this.#again) {
        this.#again = false;
        this.#schedule();
      }
    });
  }

  async #flush(): Promise<void> {
    const store = this.#store;
    if (!store || !this.#o.isLeader()) return;
    const baseline = !this.#baselineTaken;
    const imports = this.#o.imports?.() ?? new Map<string, KubernetesObject>();
    for (const [ref, shown] of Object.entries(store.all())) {
      const status = this.#o.redact ? this.#o.redact(shown) : shown;
      const [kind, namespace, name] = ref.split('/') as [string, string, string];
      const owned = OWNED[kind];
      if (!owned) continue;
      const importedFrom = imports.get(ref);
      if (importedFrom) {
        await this.#writeImported(importedFrom, ref, status);
        continue;
      }
      if (kind === 'ModelAPI' || kind === 'ModelGateway') await this.#recordEvents(kind, namespace, name, ref, status);
      const computed = this.#statusOf(kind, status);
      if (!computed) continue;
      const current = this.#o.currentStatus?.(ref);
      // A condition whose status did not change keeps the transition time the API server has (a restarted or new
      // leader must not make every condition look new); a status equal to the stored one is not written at all.
      const body = current ? keepTransitionTimes(computed, current) : computed;
      const text = JSON.stringify(body);
      if (this.#written.get(ref) === text) continue;
      if (current && canonicalJson(current) === canonicalJson(body)) {
        this.#written.set(ref, text);
        continue;
      }
      try {
        const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
        if (namespace === '-')
          await this.#custom.patchClusterCustomObjectStatus({ ...owned, name, body: { status: body } }, options);
        else
          await this.#custom.patchNamespacedCustomObjectStatus(
            { ...owned, namespace, name, body: { status: body } },
            options,
          );
        this.#written.set(ref, text);
      } catch (err) {
        const code = (err as { code?: number }).code;
        // 404: deleted meanwhile. Anything else is retried on the next change or resync.
        if (code !== 404)
          this.#o.logger.warn({ resource: ref, code, err: (err as Error).message }, 'status write failed');
      }
    }
    if (baseline) this.#baselineTaken = true;
  }

  /** The status object of a kind, as its API defines it; undefined when there is nothing of ours to say. */
  #statusOf(kind: string, status: PublishedStatus): Record<string, unknown> | undefined {
    if (kind !== 'HTTPRoute' && kind !== 'InferencePool') {
      if (kind === 'GatewayClass') return { conditions: status.conditions };
      if (kind === 'Gateway') {
        // Listener conditions carry the time of the Gateway's own programming (stable across writes).
        const since =
          status.conditions.find((c) => c.type === 'Programmed')?.lastTransitionTime ?? new Date(0).toISOString();
        const listeners = ((status.listeners as Record<string, unknown>[] | undefined) ?? []).map((l) => ({
          ...l,
          conditions: ((l.conditions as Record<string, unknown>[] | undefined) ?? []).map((c) => ({
            ...c,
            lastTransitionTime: since,
            ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
          })),
        }));
        return { conditions: status.conditions, listeners };
      }
      return status as unknown as Record<string, unknown>;
    }
    // HTTPRoute and InferencePool: conditions per parent Gateway of this controller (RouteParentStatus; the pool's
    // ParentStatus has the same shape).
    const parents = (status.parents as Record<string, unknown>[] | undefined) ?? [];
    if (parents.length === 0) return undefined;
    const conditions = status.conditions.map((c) => ({
      ...c,
      ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}),
    }));
    return {
      parents: parents.map((parentRef) => ({
        parentRef,
        controllerName: this.#o.controllerName ?? 'modelgate.dev/gateway-controller',
        conditions,
      })),
    };
  }

  /**
   * Tells what a ModelAPI was imported from which ModelAPI serves it. An InferenceService gets `status.modelgate`; a
   * Seldon Model, Pipeline or Experiment gets `modelgate.dev/*` entries in `status.annotations` (its CRD's status
   * schema has no room for more, and an API server prunes unknown fields). Both controllers rewrite their status from
   * their own types and may drop what was written; the informer sees that and it is written again.
   */
  async #writeImported(source: KubernetesObject, ref: string, status: PublishedStatus): Promise<void> {
    const ready = status.conditions.find((c) => c.type === 'Ready');
    const desired = {
      modelAPI: ref,
      ...(typeof status.url === 'string' ? { url: status.url } : {}),
      ready: ready?.status ?? 'Unknown',
      ...(ready && ready.status !== 'True' ? { message: ready.message } : {}),
    };
    const seldon = source.apiVersion?.startsWith('mlops.seldon.io/') === true;
    const target = seldon
      ? { group: 'mlops.seldon.io', version: 'v1alpha1', plural: `${source.kind!.toLowerCase()}s` }
      : { group: 'serving.kserve.io', version: 'v1beta1', plural: 'inferenceservices' };
    const written = seldon
      ? Object.fromEntries(
          Object.entries(desired).map(([k, v]) => [`modelgate.dev/${k === 'modelAPI' ? 'model-api' : k}`, v]),
        )
      : desired;
    const current = seldon
      ? pick(
          (source as { status?: { annotations?: Record<string, unknown> } }).status?.annotations,
          Object.keys(written),
        )
      : (source as { status?: { modelgate?: unknown } }).status?.modelgate;
    if (JSON.stringify(current) === JSON.stringify(written)) return;
    // A merge patch: Seldon's own status annotations stay; a message that is gone is removed (null).
    const body = seldon
      ? { status: { annotations: { 'modelgate.dev/message': null, ...written } } }
      : { status: { modelgate: desired } };
    try {
      await this.#custom.patchNamespacedCustomObjectStatus(
        { ...target, namespace: source.metadata?.namespace ?? 'default', name: source.metadata?.name ?? '', body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code !== 404)
        this.#o.logger.warn({ resource: ref, code, err: (err as Error).message }, `${source.kind} status write failed`);
    }
  }

  /**
   * Records an Event for each notable condition that changed since last seen. What a leader finds when it starts is
   * the baseline, not news: only later changes (and resources created later) get Events, so a restart does not repeat
   * an Event for every resource.
   */
  async #recordEvents(
    kind: string,
    namespace: string,
    name: string,
    ref: string,
    status: PublishedStatus,
  ): Promise<void> {
    const before = this.#seen.get(ref);
    this.#seen.set(ref, status.conditions);
    if (!this.#baselineTaken) return;
    for (const c of status.conditions) {
      if (!NOTABLE.has(c.type)) continue;
      const previous = before?.find((p) => p.type === c.type);
      if (previous && previous.status === c.status && previous.reason === c.reason) continue;
      // A condition appearing True is news only as a resource's first `Accepted`; problems always are.
      if (!previous && c.status === 'True' && !(before === undefined && c.type === 'Accepted')) continue;
      try {
        await this.#events.createNamespacedEvent({
          namespace,
          body: {
            apiVersion: 'events.k8s.io/v1',
            kind: 'Event',
            metadata: { name: `${name}.${Date.now().toString(16)}${(this.#eventCount++).toString(16)}`, namespace },
            eventTime: new Date(),
            reportingController: 'modelgate.dev/gateway',
            reportingInstance: this.#o.identity,
            action: c.type,
            reason: c.reason,
            note: c.message.slice(0, 1024),
            type: c.status === 'False' ? 'Warning' : 'Normal',
            regarding: { apiVersion: 'modelgate.dev/v1alpha1', kind, namespace, name },
          },
        });
      } catch (err) {
        this.#o.logger.warn({ resource: ref, err: (err as Error).message }, 'event not recorded');
      }
    }
  }
}

type Json = Record<string, unknown>;
type CondLike = { type?: unknown; status?: unknown; lastTransitionTime?: unknown };

/** `computed` with the transition times of `current` kept for conditions whose status is unchanged. */
export function keepTransitionTimes(computed: Json, current: Json): Json {
  const keep = (next: unknown, prev: unknown): unknown => {
    if (!Array.isArray(next) || !Array.isArray(prev)) return next;
    return next.map((c: CondLike) => {
      const p = (prev as CondLike[]).find((x) => x?.type === c?.type);
      return p && p.status === c.status && p.lastTransitionTime
        ? { ...c, lastTransitionTime: p.lastTransitionTime }
        : c;
    });
  };
  const out: Json = { ...computed };
  if (computed.conditions) out.conditions = keep(computed.conditions, current.conditions);
  // Per parent (HTTPRoute) and per listener (Gateway): matched by parentRef and by name.
  for (const [field, id] of [
    ['parents', (x: Json) => JSON.stringify(x.parentRef)],
    ['listeners', (x: Json) => String(x.name)],
  ] as const) {
    const next = computed[field];
    const prev = current[field];
    if (!Array.isArray(next) || !Array.isArray(prev)) continue;
    out[field] = (next as Json[]).map((n) => {
      const p = (prev as Json[]).find((x) => id(x) === id(n));
      return p ? { ...n, conditions: keep(n.conditions, p.conditions) } : n;
    });
  }
  return out;
}

/** The entries of `record` with these keys, in that order (undefined ones left out). */
function pick(record: Record<string, unknown> | undefined, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (record?.[k] !== undefined) out[k] = record[k];
  return out;
}
