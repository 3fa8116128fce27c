/**
 * Lease-based leader election (coordination.k8s.io/v1), as client-go does it: the holder renews the Lease every
 * `renewMs`; another replica takes it over once it has seen no renewal for `leaseDurationMs` (measured on its own
 * clock from when it last saw the Lease change, so clock skew between replicas does not matter). Every replica serves
 * traffic; only the leader writes statuses and events. A graceful stop releases the Lease, so failover is immediate.
 */
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../../observability/logger.ts';

/** Settings of the election. */
export interface LeaderElectionOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  /** This replica's identity (pod name). */
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewMs: number;
  readonly logger: Logger;
  /** Called when this replica starts or stops leading. */
  readonly onChange: (leading: boolean) => void;
}

/** One replica's side of the election. */
export class LeaderElector {
  readonly #o: LeaderElectionOptions;
  readonly #api: CoordinationV1Api;
  #leading = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** The lease as last seen (holder + renew time) and when this replica saw it change. */
  #observed: { record: string; at: number } | undefined;
  /** When this replica last renewed successfully (a leader that cannot renew for a lease duration steps down). */
  #renewedAt = 0;

  constructor(options: LeaderElectionOptions) {
    this.#o = options;
    this.#api = options.kubeConfig.makeApiClient(CoordinationV1Api);
  }

  /** Whether this replica leads now. */
  get leading(): boolean {
    return this.#leading;
  }

  /** Starts competing. */
  start(): void {
    const tick = async () => {
      await this.#tryAcquireOrRenew();
      if (!this.#stopped) {
        this.#timer = setTimeout(tick, this.#o.renewMs);
        this.#timer.unref();
      }
    };
    void tick();
  }

  /** Stops competing; a leader releases the Lease (unless `release` is false: as if the process had died). */
  async stop(release = true): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (!this.#leading || !release) {
      this.#set(false);
      return;
    }
    this.#set(false);
    try {
      const lease = await this.#api.readNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace });
      if (lease.spec?.holderIdentity === this.#o.identity) {
        lease.spec.holderIdentity = '';
        lease.spec.leaseDurationSeconds = 1;
        await this.#api.replaceNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace, body: lease });
      }
    } catch {
      // the next leader waits out the lease instead
    }
  }

  async #tryAcquireOrRenew(): Promise<void> {
    const now = Date.now();
    const { name, namespace, identity } = this.#o;
    const durationSeconds = Math.max(1, Math.ceil(this.#o.leaseDurationMs / 1000));
    try {
      let lease: V1Lease;
      try {
        lease = await this.#api.readNamespacedLease({ name, namespace });
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
        await this.#api.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: new Date(now),
              renewTime: new Date(now),
              leaseTransitions: 0,
            },
          },
        });
        this.#renewedAt = now;
        this.#set(true);
        return;
      }
      const spec = lease.spec ?? {};
      const record = `${spec.holderIdentity ?? ''}|${spec.renewTime ? new Date(spec.renewTime).getTime() : 0}`;
      if (this.#observed?.record !== record) this.#observed = { record, at: now };
      const holder = spec.holderIdentity ?? '';
      const expired = holder === '' || now - this.#observed.at > (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      if (holder !== identity && !expired) {
        this.#set(false);
        return;
      }
      const takingOver = holder !== identity;
      lease.spec = {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: new Date(now),
        ...(takingOver
          ? { acquireTime: new Date(now), leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === '' ? 0 : 1) }
          : {}),
      };
      // The resourceVersion in the body makes this a compare-and-swap: a concurrent writer gets 409.
      await this.#api.replaceNamespacedLease({ name, namespace, body: lease });
      this.#renewedAt = now;
      if (takingOver) this.#o.logger.info({ lease: `${namespace}/${name}`, previous: holder || null }, 'became leader');
      this.#set(true);
    } catch (err) {
      // Lost a race (409) or the API server is unreachable: a leader keeps leading only while its lease is valid.
      if (this.#leading && now - this.#renewedAt > this.#o.leaseDurationMs) {
        this.#o.logger.warn({ err: (err as Error).message }, 'could not renew the leader lease; stepping down');
        this.#set(false);
      }
    }
  }

  #set(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#o.onChange(leading);
  }
}
