/**
 * Seldon Core v2 import: `Model`, `Pipeline` and `Experiment` resources (mlops.seldon.io/v1alpha1) that opt in (label
 * or annotation `modelgate.dev/expose: "true"`, or their namespace labelled `modelgate.dev/seldon-import: enabled`)
 * become ModelAPIs of the same name, compiled like any other. Seldon serves every model and pipeline behind one mesh
 * (Envoy, Service `seldon-mesh` port 80; annotation `modelgate.dev/seldon-mesh: <service>[:<port>]` to change it),
 * which routes V2 requests by the `seldon-model` header — `<model>`, `<pipeline>.pipeline`, `<experiment>.experiment` —
 * so each version sets that header (`requestHeaders.set`), on its requests, its health checks and its metadata fetch.
 *
 * - Model → one V2 version; docs from the V2 metadata the model's server answers through the mesh.
 * - Pipeline → one V2 version with `<name>.pipeline`; Seldon's pipeline gateway answers infer and ready but no
 *   metadata, so the generic V2 document is published (the status says so).
 * - Experiment without a default, A/B only → one weighted version per candidate, each addressed to its candidate
 *   directly: the split (and pinning with the version header) happens at the gateway, each version documented from
 *   its own model. With a mirror → one version addressed to `<name>.experiment`: the mesh splits and mirrors (a
 *   ModelAPI has no mirror), documented generically (its metadata would come from either candidate).
 * - Experiment with a default → not imported: the mesh already applies it to the default's own traffic (`seldon-model:
 *   <default>`), so the default's ModelAPI carries it; splitting again at the gateway would split twice.
 * Pure.
 */
import { EXPOSE_KEY, IMPORTED_FROM } from './kserve-import.ts';

type Json = Record<string, unknown>;

/** Namespace label that opts every Seldon resource of the namespace in. */
export const SELDON_NAMESPACE_LABEL = 'modelgate.dev/seldon-import';
/** Annotation naming the mesh Service (`<service>[:<port>]`) when it is not `seldon-mesh:80`. */
export const MESH_ANNOTATION = 'modelgate.dev/seldon-mesh';
/** The routing header of Seldon's mesh. */
export const SELDON_MODEL_HEADER = 'seldon-model';

export type SeldonKind = 'Model' | 'Pipeline' | 'Experiment';

/** The result of importing one Seldon resource. */
export type SeldonImport =
  | { readonly kind: 'skipped' }
  | { readonly kind: 'pending'; readonly reason: string }
  | { readonly kind: 'not-imported'; readonly reason: string }
  | { readonly kind: 'imported'; readonly modelApi: Json; readonly note?: string };

type Meta = {
  name: string;
  namespace?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};

/** The ModelAPI a Seldon resource becomes, if any. */
export function importSeldonResource(object: Json, namespacesOptedIn: ReadonlySet<string>): SeldonImport {
  const meta = (object.metadata ?? {}) as Meta;
  const namespace = meta.namespace ?? 'default';
  const opted =
    meta.labels?.[EXPOSE_KEY] === 'true' ||
    meta.annotations?.[EXPOSE_KEY] === 'true' ||
    namespacesOptedIn.has(namespace);
  if (!opted) return { kind: 'skipped' };
  const mesh = meshService(meta.annotations?.[MESH_ANNOTATION]);
  if ('error' in mesh) return { kind: 'not-imported', reason: mesh.error };
  const version = (name: string, model: string, header: string, weight?: number): Json => ({
    name,
    ...(weight !== undefined ? { weight } : {}),
    modelName: model,
    backend: { service: mesh },
    requestHeaders: { set: { [SELDON_MODEL_HEADER]: header } },
  });
  const kind = object.kind as SeldonKind;
  const spec = (object.spec ?? {}) as Json;
  if (kind === 'Model') return imported(meta, kind, [version('v1', meta.name, meta.name)], true);
  if (kind === 'Pipeline')
    return imported(
      meta,
      kind,
      [version('v1', meta.name, `${meta.name}.pipeline`)],
      false,
      'the pipeline gateway serves no model metadata: the generic V2 document is published',
    );
  if (kind !== 'Experiment') return { kind: 'skipped' };
  const experiment = spec as {
    default?: string;
    resourceType?: string;
    candidates?: { name?: string; weight?: number }[];
    mirror?: { name?: string; percent?: number };
  };
  if (experiment.default)
    return {
      kind: 'not-imported',
      reason: `applied by the Seldon mesh to the traffic of ${experiment.default} (seldon-model: ${experiment.default}); import that ${experiment.resourceType === 'pipeline' ? 'Pipeline' : 'Model'} instead`,
    };
  const suffix = experiment.resourceType === 'pipeline' ? '.pipeline' : '';
  const candidates = (experiment.candidates ?? []).filter(
    (c): c is { name: string; weight?: number } => typeof c.name === 'string' && c.name !== '',
  );
  if (candidates.length === 0) return { kind: 'pending', reason: 'the Experiment names no candidates' };
  if (experiment.mirror?.name)
    return imported(
      meta,
      kind,
      [version('v1', meta.name, `${meta.name}.experiment`)],
      false,
      `the mesh splits and mirrors to ${experiment.mirror.name} (a ModelAPI has no mirror); the generic V2 document is published`,
    );
  const names = new Set<string>();
  const versions = candidates.map((c) => {
    const name = versionName(c.name, names);
    return version(name, c.name, `${c.name}${suffix}`, c.weight ?? 0);
  });
  return imported(meta, kind, versions, suffix === '');
}

function imported(meta: Meta, kind: SeldonKind, versions: Json[], discover: boolean, note?: string): SeldonImport {
  const namespace = meta.namespace ?? 'default';
  return {
    kind: 'imported',
    ...(note ? { note } : {}),
    modelApi: {
      apiVersion: 'modelgate.dev/v1alpha1',
      kind: 'ModelAPI',
      metadata: {
        name: meta.name,
        namespace,
        ...(meta.generation !== undefined ? { generation: meta.generation } : {}),
        ...(meta.creationTimestamp ? { creationTimestamp: meta.creationTimestamp } : {}),
        annotations: { [IMPORTED_FROM]: `${kind}/${namespace}/${meta.name}` },
      },
      spec: {
        protocol: 'open-inference-v2',
        docs: {
          discover,
          description: `Imported from Seldon Core ${kind} ${namespace}/${meta.name}${note ? `; ${note}` : ''}.`,
        },
        versions,
      },
    },
  };
}

/** `seldon-mesh:80` unless the annotation names another `<service>[:<port>]`. */
function meshService(annotation: string | undefined): { name: string; port: number | string } | { error: string } {
  if (annotation === undefined) return { name: 'seldon-mesh', port: 80 };
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?::([a-z0-9-]+))?$/.exec(annotation.trim());
  if (!m) return { error: `${MESH_ANNOTATION}: "${annotation}" is not <service>[:<port>]` };
  const port = m[3] === undefined ? 80 : /^\d+$/.test(m[3]) ? Number(m[3]) : m[3];
  return { name: m[1]!, port };
}

/** A candidate's name as a version name (lower-case DNS label), unique within the API. */
function versionName(candidate: string, taken: Set<string>): string {
  const base =
    candidate
      .toLowerCase()
      .replace(/[^a-z0-9.-]+/g, '-')
      .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
      .slice(0, 63) || 'candidate';
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base.slice(0, 60)}-${i}`;
  taken.add(name);
  return name;
}
