/**
 * A snapshot bound to live resources: its matcher and its clusters' endpoints. Built once per snapshot, read by
 * every request that starts while it is current, and retired only after the last of those requests has finished,
 * so a reload never cuts a request short.
 */

import { DocsSite, type RevisionSource } from '../docsplane/docs-site.ts';
import type { PublishRunner } from '../docsplane/published.ts';
import type { ForwardAction } from '../policies/phase.ts';
import { type ActionPhases, phasesOf } from '../policies/request-phases.ts';
import { RequestValidators } from '../policies/validation/validators.ts';
import type { Snapshot } from '../snapshot/types.ts';
import { DeprecatedOperations } from './deprecated-operations.ts';
import { RouteMatcher } from './matcher.ts';
import type { PathOptions } from './request-path.ts';
import type { RuntimeCluster, UpstreamRegistry } from './upstream-registry.ts';

/** The data plane's view of one snapshot. */
export class RuntimeSnapshot {
  readonly matcher: RouteMatcher;
  readonly clusters: ReadonlyMap<string, RuntimeCluster>;
  /** The docs portal of this snapshot. */
  readonly docs: DocsSite;
  /** Request validation against this snapshot's published documents (compiled on first use). */
  readonly validators: RequestValidators;
  /** Operations the model teams marked deprecated in their documents (indexed on first use). */
  readonly deprecatedOperations: DeprecatedOperations;
  /** How request paths are normalised under this snapshot. */
  readonly paths: PathOptions;
  /** Requests that entered while this snapshot was current and have not finished. */
  inflight = 0;
  /** The policy phases of each rule's action, worked out on its first request (snapshots are immutable). */
  readonly #phases = new WeakMap<ForwardAction, ActionPhases>();
  #retired = false;
  #released = false;

  readonly snapshot: Snapshot;
  readonly registry: UpstreamRegistry;

  /**
   * @param previous the snapshot this one replaces: a cluster compiled to the very same object (its ModelAPI did not
   *   change) keeps its runtime — balancer, retry budget, endpoints — instead of a new one per reload.
   */
  constructor(
    snapshot: Snapshot,
    registry: UpstreamRegistry,
    revisions: RevisionSource = () => [],
    previous?: RuntimeSnapshot,
    documents?: PublishRunner,
  ) {
    this.snapshot = snapshot;
    this.registry = registry;
    this.paths = snapshot.gateway.paths;
    this.matcher = new RouteMatcher(snapshot.routes, snapshot.listenerHosts);
    this.clusters = servingClusters(snapshot, registry, previous?.clusters);
    this.validators = new RequestValidators(snapshot.docs);
    this.deprecatedOperations = new DeprecatedOperations(snapshot.docs);
    this.docs = new DocsSite(
      snapshot.docs,
      (name) => {
        const endpoints = this.clusters.get(name)?.endpoints ?? [];
        const now = Date.now();
        return { ready: endpoints.filter((e) => e.available(now)).length, total: endpoints.length };
      },
      revisions,
      documents,
    );
  }

  /** The policy phases a rule's action runs, in the order of the phase table. */
  phasesOf(action: ForwardAction): ActionPhases {
    let phases = this.#phases.get(action);
    if (phases === undefined) {
      phases = phasesOf(action);
      this.#phases.set(action, phases);
    }
    return phases;
  }

  /** Marks the snapshot as replaced; its upstream references go once no request uses it. */
  retire(): void {
    this.#retired = true;
    this.#maybeRelease();
  }

  /** Called when a request that entered under this snapshot finishes. */
  exit(): void {
    this.inflight--;
    if (this.#retired) this.#maybeRelease();
  }

  #maybeRelease(): void {
    if (this.#released || this.inflight > 0) return;
    this.#released = true;
    for (const c of this.clusters.values()) this.registry.release(c);
  }
}

/**
 * The clusters of a snapshot bound to live endpoints, keeping the runtime of those compiled to the very same object.
 * A function of its own, not closures in the constructor: a closure there would share the constructor's context with
 * the docs site's health callback and keep `previous` — and through it every earlier snapshot — alive.
 */
function servingClusters(
  snapshot: Snapshot,
  registry: UpstreamRegistry,
  previous: ReadonlyMap<string, RuntimeCluster> | undefined,
): Map<string, RuntimeCluster> {
  const clusters = new Map<string, RuntimeCluster>();
  for (const c of Object.values(snapshot.clusters)) {
    const kept = previous?.get(c.name);
    clusters.set(c.name, kept?.config === c && registry.retain(kept) ? kept : registry.acquire(c));
  }
  return clusters;
}
