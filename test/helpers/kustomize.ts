/**
 * The part of kustomize the repository's kustomizations use, so the manifests in deploy/ can be rendered (and their
 * RBAC enforced by the API-server simulator) on a machine without kubectl: `resources` (files and directories with
 * their own kustomization), `namespace`, `images`, and `patches` with an inline JSON 6902 patch and a target. Anything
 * else in a kustomization is an error here, not silently ignored. Where kubectl is installed, test/project/deploy.test.ts
 * renders every kustomization with `kubectl kustomize` too and requires the same objects.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { jsonPatch } from './kube-apiserver.ts';

type Json = Record<string, unknown>;

const KNOWN = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches']);

/** Kinds without a namespace (kustomize's namespace transformer leaves them alone). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'GatewayClass',
  'PriorityClass',
  'StorageClass',
  'IngressClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'PersistentVolume',
]);

interface Patch {
  target: { kind?: string; name?: string; group?: string; version?: string; namespace?: string };
  patch: string;
}

/** The objects `kubectl kustomize dir` would print (in resource order). */
export function renderKustomization(dir: string): Json[] {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => join(dir, f)).find(existsSync);
  if (!file) throw new Error(`${dir}: no kustomization.yaml`);
  const k = parse(readFileSync(file, 'utf8')) as Json;
  for (const key of Object.keys(k))
    if (!KNOWN.has(key)) throw new Error(`${file}: ${key} is not supported by the test renderer`);
  let objects: Json[] = [];
  for (const entry of (k.resources ?? []) as string[]) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) objects.push(...renderKustomization(path));
    else
      objects.push(
        ...parseAllDocuments(readFileSync(path, 'utf8'))
          .map((d) => d.toJSON() as Json | null)
          .filter((o): o is Json => o !== null),
      );
  }
  objects = objects.map((o) => structuredClone(o));
  for (const p of (k.patches ?? []) as Patch[]) {
    if (typeof p.patch !== 'string' || !p.target)
      throw new Error(`${file}: only inline patches with a target are supported`);
    const ops = parse(p.patch) as Json[];
    const targets = objects.filter((o) => targetMatches(o, p.target));
    if (targets.length === 0) throw new Error(`${file}: a patch matches no object: ${JSON.stringify(p.target)}`);
    for (const o of targets) {
      const result = jsonPatch(o, structuredClone(ops));
      if (typeof result === 'string')
        throw new Error(`${file}: patch on ${o.kind}/${(o.metadata as Json).name}: ${result}`);
    }
  }
  if (typeof k.namespace === 'string') for (const o of objects) setNamespace(o, k.namespace);
  for (const image of (k.images ?? []) as { name: string; newName?: string; newTag?: string }[])
    for (const o of objects) renameImage(o, image);
  return objects;
}

function targetMatches(o: Json, t: Patch['target']): boolean {
  const [group, version] = String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/') : ['', o.apiVersion];
  const meta = o.metadata as Json;
  return (
    (t.kind === undefined || t.kind === o.kind) &&
    (t.name === undefined || t.name === meta.name) &&
    (t.group === undefined || t.group === group) &&
    (t.version === undefined || t.version === version) &&
    (t.namespace === undefined || t.namespace === meta.namespace)
  );
}

function setNamespace(o: Json, namespace: string): void {
  const meta = o.metadata as Json;
  if (!CLUSTER_SCOPED.has(String(o.kind))) meta.namespace = namespace;
  // As kustomize does: the ServiceAccount subjects of bindings follow the namespace their accounts moved to.
  if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')
    for (const s of (o.subjects ?? []) as Json[]) if (s.kind === 'ServiceAccount') s.namespace = namespace;
}

function renameImage(o: Json, image: { name: string; newName?: string; newTag?: string }): void {
  const pod = ((o.spec as Json | undefined)?.template as Json | undefined)?.spec as Json | undefined;
  for (const c of [...((pod?.containers ?? []) as Json[]), ...((pod?.initContainers ?? []) as Json[])]) {
    const [name, tag] = String(c.image).split(':');
    if (name !== image.name) continue;
    c.image = `${image.newName ?? name}${image.newTag ? `:${image.newTag}` : tag ? `:${tag}` : ''}`;
  }
}

/** The directory of the repository's deploy/ (for tests). */
export const DEPLOY = join(dirname(new URL(import.meta.url).pathname), '../../deploy');
