/**
 * Revision history in Kubernetes: one ConfigMap per ModelAPI version (`<name>-revisions-<version>`), owned by the
 * ModelAPI (deleted with it), labelled `modelgate.dev/revisions`. Written by the leader; read by every replica at
 * start. Each stays under the 1 MiB object limit: gzip in `binaryData` when needed, then the oldest revisions go.
 */
import { gunzipSync } from 'node:zlib';
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import type { RevisionPersistence, VersionHistory } from '../../changes/revisions.ts';
import type { Logger } from '../../observability/logger.ts';
import { kubeGet } from '../../sources/kube/kube-request.ts';
import { ownedMetadata, sizedConfigMap, upsertConfigMap } from './owned-configmap.ts';

/** Label of the revision ConfigMaps. */
export const REVISIONS_LABEL = 'modelgate.dev/revisions';

/** Settings of the ConfigMap store. */
export interface ConfigMapRevisionOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly isLeader: () => boolean;
  readonly uidOf: (namespace: string, name: string) => string | undefined;
  /** Namespaces to read from (default: all). */
  readonly namespaces?: readonly string[];
}

/** Revision histories kept in ConfigMaps. */
export class ConfigMapRevisions implements RevisionPersistence {
  readonly #o: ConfigMapRevisionOptions;
  readonly #core: CoreV1Api;
  #queue: Promise<void> = Promise.resolve();

  constructor(options: ConfigMapRevisionOptions) {
    this.#o = options;
    this.#core = options.kubeConfig.makeApiClient(CoreV1Api);
  }

  async load(): Promise<readonly VersionHistory[]> {
    const out: VersionHistory[] = [];
    const paths = this.#o.namespaces?.length
      ? this.#o.namespaces.map((ns) => `/api/v1/namespaces/${ns}/configmaps`)
      : ['/api/v1/configmaps'];
    for (const path of paths) {
      try {
        const list = await kubeGet(this.#o.kubeConfig, `${path}?labelSelector=${encodeURIComponent(REVISIONS_LABEL)}`);
        for (const cm of (list.items ?? []) as V1ConfigMap[]) {
          const history = decode(cm);
          if (history) out.push(history);
        }
      } catch (err) {
        this.#o.logger.warn({ err: (err as Error).message }, 'revision history not read; starting without it');
      }
    }
    return out;
  }

  save(api: string, version: string, history: VersionHistory): void {
    if (!this.#o.isLeader()) return;
    // Writes are queued: revisions of one version are written in order.
    this.#queue = this.#queue.then(() => this.#write(api, version, history)).catch(() => {});
  }

  /** Resolves when the queued writes are done. */
  settled(): Promise<void> {
    return this.#queue;
  }

  async #write(api: string, version: string, history: VersionHistory): Promise<void> {
    const [, namespace, owner] = api.split('/') as [string, string, string];
    const uid = this.#o.uidOf(namespace, owner);
    if (!uid) return; // not a ModelAPI of the API server (an imported one): nothing to own the history
    const name = `${owner}-revisions-${version}`
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, '-')
      .slice(0, 253);
    const body = encode(namespace, name, owner, uid, history);
    if (!body) {
      this.#o.logger.warn({ resource: api, version }, 'revision history too large even for one revision');
      return;
    }
    try {
      await upsertConfigMap(this.#core, body);
    } catch (err) {
      this.#o.logger.warn({ resource: api, version, err: (err as Error).message }, 'revision history not written');
    }
  }
}

/** The ConfigMap of a history, trimmed (oldest revisions first) until it fits; undefined when nothing fits. */
export function encode(
  namespace: string,
  name: string,
  owner: string,
  uid: string,
  history: VersionHistory,
): V1ConfigMap | undefined {
  const metadata = ownedMetadata(namespace, name, owner, uid, { [REVISIONS_LABEL]: 'true' });
  for (let kept = history; kept.revisions.length > 0; kept = { ...kept, revisions: kept.revisions.slice(1) }) {
    const body = sizedConfigMap(metadata, 'history.json', JSON.stringify(kept));
    if (body) return body;
  }
  return undefined;
}

function decode(cm: V1ConfigMap): VersionHistory | undefined {
  try {
    const text =
      cm.data?.['history.json'] ??
      (cm.binaryData?.['history.json.gz']
        ? gunzipSync(Buffer.from(cm.binaryData['history.json.gz'], 'base64')).toString('utf8')
        : undefined);
    return text ? (JSON.parse(text) as VersionHistory) : undefined;
  } catch {
    return undefined;
  }
}
