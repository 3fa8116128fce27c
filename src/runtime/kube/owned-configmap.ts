/**
 * ConfigMaps that a ModelAPI owns (its published document, its revision history): the owner reference that has
 * Kubernetes delete them with the ModelAPI, the size rule (gzip above the limit), and create-or-replace.
 */
import { gzipSync } from 'node:zlib';
import type { CoreV1Api, V1ConfigMap, V1ObjectMeta } from '@kubernetes/client-node';

/** The largest ConfigMap payload written (the API server's limit is 1 MiB for the whole object). */
export const MAX_CONFIGMAP_BYTES = 1024 * 1024 - 16 * 1024;

/** Metadata of a ConfigMap owned by the ModelAPI `owner` (uid `uid`). */
export function ownedMetadata(
  namespace: string,
  name: string,
  owner: string,
  uid: string,
  labels: Record<string, string>,
  annotations?: Record<string, string>,
): V1ObjectMeta {
  return {
    name,
    namespace,
    labels: { 'app.kubernetes.io/managed-by': 'modelgate', 'modelgate.dev/model-api': owner, ...labels },
    ...(annotations ? { annotations } : {}),
    ownerReferences: [
      {
        apiVersion: 'modelgate.dev/v1alpha1',
        kind: 'ModelAPI',
        name: owner,
        uid,
        controller: true,
        blockOwnerDeletion: false,
      },
    ],
  };
}

/** `text` under `key` as is, or gzip-compressed under `<key>.gz` in binaryData; undefined when neither fits. */
export function sizedConfigMap(metadata: V1ObjectMeta, key: string, text: string): V1ConfigMap | undefined {
  if (Buffer.byteLength(text) <= MAX_CONFIGMAP_BYTES)
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { [key]: text } };
  const gz = gzipSync(text).toString('base64');
  if (gz.length > MAX_CONFIGMAP_BYTES) return undefined;
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata, binaryData: { [`${key}.gz`]: gz } };
}

/** Creates the ConfigMap, or replaces the existing one (compare-and-swap on its resourceVersion). */
export async function upsertConfigMap(core: CoreV1Api, body: V1ConfigMap): Promise<void> {
  const name = body.metadata!.name!;
  const namespace = body.metadata!.namespace!;
  try {
    const existing = await core.readNamespacedConfigMap({ name, namespace });
    if (existing.metadata?.resourceVersion) body.metadata!.resourceVersion = existing.metadata.resourceVersion;
    await core.replaceNamespacedConfigMap({ name, namespace, body });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await core.createNamespacedConfigMap({ namespace, body });
  }
}
