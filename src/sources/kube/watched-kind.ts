/**
 * One supervised informer. The client library's ListWatch relists on 410 Gone and reconnects after its own watch
 * timeout, but stops for good after any other error (a refused connection while the API server restarts, a failed
 * list). This wrapper restarts it with exponential backoff and jitter, and knows whether it has completed a list
 * ("synced").
 */
import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import type { Logger } from '../../observability/logger.ts';
import { kubeGet } from './kube-request.ts';

/** What to watch. */
export interface WatchSpec {
  readonly apiVersion: string;
  readonly kind: string;
  /** Collection path, e.g. `/api/v1/namespaces/ml/secrets` or `/apis/modelgate.dev/v1alpha1/modelapis`. */
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** Backoff of restarts. */
export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** A kind (or a selection of it) kept in a cache that follows the API server. */
export class WatchedKind {
  readonly spec: WatchSpec;
  readonly #kc: KubeConfig;
  readonly #onChange: () => void;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  #informer: ListWatch<KubernetesObject> | undefined;
  #synced = false;
  #failures = 0;
  #restart: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(kc: KubeConfig, spec: WatchSpec, onChange: () => void, log: Logger, backoff: Backoff) {
    this.#kc = kc;
    this.spec = spec;
    this.#onChange = onChange;
    this.#log = log;
    this.#backoff = backoff;
  }

  /** Whether a full list has been received at least once. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Starts (never throws: failures are retried). */
  start(): void {
    const query = new URLSearchParams();
    if (this.spec.labelSelector) query.set('labelSelector', this.spec.labelSelector);
    if (this.spec.fieldSelector) query.set('fieldSelector', this.spec.fieldSelector);
    const listPath = `${this.spec.path}${query.size > 0 ? `?${query}` : ''}`;
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const body = (await kubeGet(this.#kc, listPath)) as unknown as KubernetesListObject<KubernetesObject>;
      // List items carry no apiVersion/kind; watch events do. Fill them in so the cache is uniform.
      for (const item of body.items ?? []) {
        item.apiVersion ??= this.spec.apiVersion;
        item.kind ??= this.spec.kind;
      }
      if (!this.#synced) {
        // Synced once the informer has put the items in its cache (after this promise resolves, before the next
        // macrotask); the first list is a change too: the cache went from nothing to everything.
        setImmediate(() => {
          this.#synced = true;
          this.#onChange();
        });
      }
      this.#failures = 0;
      return body;
    };
    // Bookmarks keep a quiet watch's resourceVersion fresh, so a reconnect does not need a relist.
    const informer = new ListWatch<KubernetesObject>(
      `${this.spec.path}?allowWatchBookmarks=true`,
      new Watch(this.#kc),
      list,
      false,
      this.spec.labelSelector,
      this.spec.fieldSelector,
    );
    informer.on('add', this.#onChange);
    informer.on('update', this.#onChange);
    informer.on('delete', this.#onChange);
    informer.on('error', (err: unknown) => this.#failed(err));
    this.#informer = informer;
    void informer.start().catch((err: unknown) => this.#failed(err));
  }

  /** The cached objects. */
  objects(): readonly KubernetesObject[] {
    return this.#informer?.list() ?? [];
  }

  /** Stops watching. */
  stop(): void {
    this.#stopped = true;
    if (this.#restart) clearTimeout(this.#restart);
    void this.#informer?.stop();
  }

  #failed(err: unknown): void {
    if (this.#stopped || this.#restart) return;
    this.#failures++;
    const delay = Math.min(this.#backoff.maxMs, this.#backoff.baseMs * 2 ** Math.min(this.#failures - 1, 10));
    const jittered = Math.round(delay * (0.5 + Math.random() / 2));
    this.#log.warn(
      { kind: this.spec.kind, path: this.spec.path, err: (err as Error)?.message ?? String(err), retryInMs: jittered },
      'watch failed; restarting',
    );
    this.#restart = setTimeout(() => {
      this.#restart = undefined;
      if (this.#stopped) return;
      void this.#informer?.start().catch((e: unknown) => this.#failed(e));
    }, jittered);
    this.#restart.unref();
  }
}
