/**
 * modelgate in Kubernetes: the gateway runtime fed by the Kubernetes source, with the status writer and the leader
 * election around it. Every replica serves traffic from its own informers' caches; the leader also writes statuses
 * and Events.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeSource } from '../../sources/kube/kube-source.ts';
import type { Backoff } from '../../sources/kube/watched-kind.ts';
import { FileGateway, type FileGatewayOptions } from '../file-gateway.ts';
import { DocumentPublisher } from './document-publisher.ts';
import { LeaderElector } from './leader-election.ts';
import { ConfigMapRevisions } from './revision-configmaps.ts';
import { KubeStatusWriter } from './status-writer.ts';

/** Settings of a gateway in Kubernetes mode. */
export interface KubeGatewayOptions extends Omit<FileGatewayOptions, 'configDir' | 'source' | 'onStatuses' | 'watch'> {
  readonly kubeConfig: KubeConfig;
  /** Namespaces to watch (default: all). */
  readonly namespaces?: readonly string[];
  /** This replica's name (the pod name), for the Lease and Events. */
  readonly identity: string;
  /** Where the leader Lease lives (the gateway's own namespace). */
  readonly leaseNamespace: string;
  readonly leaseName?: string;
  readonly leaseDurationMs?: number;
  readonly renewMs?: number;
  readonly resyncMs?: number;
  readonly backoff?: Backoff;
}

/** A running gateway in Kubernetes mode. */
export class KubeGateway {
  readonly gateway: FileGateway;
  readonly source: KubeSource;
  readonly elector: LeaderElector;
  readonly writer: KubeStatusWriter;
  readonly publisher: DocumentPublisher;
  /** The changelog's history, in ConfigMaps owned by the ModelAPIs. */
  readonly revisionStore: ConfigMapRevisions;
  #stopping: Promise<void> | undefined;

  constructor(options: KubeGatewayOptions) {
    const {
      kubeConfig,
      namespaces,
      identity,
      leaseNamespace,
      leaseName,
      leaseDurationMs,
      renewMs,
      resyncMs,
      backoff,
      ...rest
    } = options;
    this.source = new KubeSource({
      kubeConfig,
      logger: options.logger,
      ...(namespaces ? { namespaces } : {}),
      ...(resyncMs !== undefined ? { resyncMs } : {}),
      ...(backoff ? { backoff } : {}),
    });
    this.writer = new KubeStatusWriter({
      kubeConfig,
      identity,
      logger: options.logger,
      isLeader: () => this.elector.leading,
      imports: () => this.source.imports,
      currentStatus: (ref) => this.source.statusOf(ref),
      // The gateway is created below; its redactor knows the secrets of the configuration in effect.
      redact: (value) => this.gateway.redactor.redactJson(value),
      ...(options.controllerName ? { controllerName: options.controllerName } : {}),
    });
    this.elector = new LeaderElector({
      kubeConfig,
      namespace: leaseNamespace,
      name: leaseName ?? 'modelgate-leader',
      identity,
      leaseDurationMs: leaseDurationMs ?? 15_000,
      renewMs: renewMs ?? 5_000,
      logger: options.logger,
      onChange: (leading) => {
        this.writer.leadershipChanged(leading);
        if (!leading) return;
        this.publisher.forget();
        this.gateway.revisions.persistAll();
        const current = this.gateway.dataPlane.current;
        if (current) this.publisher.publish(current);
      },
    });
    this.publisher = new DocumentPublisher({
      kubeConfig,
      logger: options.logger,
      isLeader: () => this.elector.leading,
      uidOf: (namespace, name) => this.source.modelApiUid(namespace, name),
    });
    this.revisionStore = new ConfigMapRevisions({
      kubeConfig,
      logger: options.logger,
      isLeader: () => this.elector.leading,
      uidOf: (namespace, name) => this.source.modelApiUid(namespace, name),
      ...(namespaces ? { namespaces } : {}),
    });
    this.gateway = new FileGateway({
      ...rest,
      revisionPersistence: this.revisionStore,
      source: this.source,
      onStatuses: (store) => {
        this.writer.update(store);
        const current = this.gateway.dataPlane.current;
        if (current) this.publisher.publish(current);
      },
    });
  }

  /** Starts serving, watching and competing for leadership. */
  async start(): Promise<void> {
    // The history first: revisions recorded from the first snapshot on continue it.
    await this.gateway.revisions.ready;
    this.elector.start();
    await this.gateway.start();
  }

  /** Stops: releases the lease (fast failover), then drains like file mode. */
  stop(drainMs?: number): Promise<void> {
    this.#stopping ??= (async () => {
      await this.elector.stop();
      await this.writer.settled();
      await this.publisher.settled();
      await this.revisionStore.settled();
      await this.gateway.stop(drainMs);
    })();
    return this.#stopping;
  }
}
