/**
 * Publishes each ModelAPI's merged OpenAPI document as a ConfigMap it owns (`<name>-openapi`, key `openapi.json`),
 * so GitOps tools and other gateways can read what modelgate serves. Written by the leader, only when the content
 * changed (its sha256 is an annotation); garbage-collected with the ModelAPI through the owner reference. A document
 * above the ConfigMap limit (1 MiB) is stored gzip-compressed under `binaryData` (`openapi.json.gz`); one still too
 * large is not written, and that is logged.
 */
import { createHash } from 'node:crypto';
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { apiDocument } from '../../docsplane/published.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Snapshot } from '../../snapshot/types.ts';
import { ownedMetadata, sizedConfigMap, upsertConfigMap } from './owned-configmap.ts';

/** Settings of the publisher. */
export interface DocumentPublisherOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly isLeader: () => boolean;
  /** The uid of a ModelAPI (for the owner reference), from the informer cache. */
  readonly uidOf: (namespace: string, name: string) => string | undefined;
}

/** Writes the per-API ConfigMaps. */
export class DocumentPublisher {
  readonly #o: DocumentPublisherOptions;
  readonly #core: CoreV1Api;
  /** sha256 last written per ConfigMap (`ns/name`). */
  readonly #written = new Map<string, string>();
  #running: Promise<void> | undefined;
  #next: Snapshot | undefined;

  constructor(options: DocumentPublisherOptions) {
    this.#o = options;
    this.#core = options.kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Publishes the documents of `snapshot` (coalesced: a newer snapshot replaces one not yet started). */
  publish(snapshot: Snapshot): void {
    this.#next = snapshot;
    if (this.#running) return;
    this.#running = (async () => {
      while (this.#next) {
        const s = this.#next;
        this.#next = undefined;
        if (this.#o.isLeader()) await this.#publish(s);
      }
    })().finally(() => {
      this.#running = undefined;
    });
  }

  /** A new leader writes everything once. */
  forget(): void {
    this.#written.clear();
  }

  /** Resolves when the publications scheduled so far are done. */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #publish(snapshot: Snapshot): Promise<void> {
    for (const api of snapshot.docs.apis) {
      const uid = this.#o.uidOf(api.namespace, api.name);
      if (!uid) continue; // not from the API server (or already gone)
      const name = `${api.name}-openapi`;
      const key = `${api.namespace}/${name}`;
      const text = JSON.stringify(apiDocument(snapshot.docs, api));
      const sha = createHash('sha256').update(text).digest('hex');
      if (this.#written.get(key) === sha) continue;
      const body = configMap(api.namespace, name, api.name, uid, text, sha);
      if (!body) {
        this.#o.logger.warn({ resource: api.ref, bytes: text.length }, 'OpenAPI document too large for a ConfigMap');
        continue;
      }
      try {
        await upsertConfigMap(this.#core, body);
        this.#written.set(key, sha);
      } catch (err) {
        this.#o.logger.warn({ resource: api.ref, err: (err as Error).message }, 'OpenAPI ConfigMap not written');
      }
    }
  }
}

/** The ConfigMap of one API's document; undefined when it cannot fit even compressed. */
export function configMap(
  namespace: string,
  name: string,
  owner: string,
  uid: string,
  text: string,
  sha: string,
): V1ConfigMap | undefined {
  return sizedConfigMap(
    ownedMetadata(namespace, name, owner, uid, {}, { 'modelgate.dev/sha256': sha }),
    'openapi.json',
    text,
  );
}
