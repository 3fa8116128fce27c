/**
 * KServe import: an InferenceService that opts in (label or annotation `modelgate.dev/expose: "true"`, or its
 * namespace labelled `modelgate.dev/kserve-import: enabled`) becomes a ModelAPI of the same name, compiled like any
 * other. Protocol from the predictor (`protocolVersion`, else the runtime: Triton speaks V2), backend from the status
 * address, and — when KServe tags revisions (`serving.kserve.io/enable-tag-routing`) — the canary split from its
 * traffic status: one version per tagged revision with its percent. Pure.
 */

type Json = Record<string, unknown>;

/** Label or annotation with which an InferenceService opts in. */
export const EXPOSE_KEY = 'modelgate.dev/expose';
/** Namespace label that opts every InferenceService of the namespace in. */
export const NAMESPACE_IMPORT_LABEL = 'modelgate.dev/kserve-import';
/** Annotation on the imported ModelAPI naming its InferenceService. */
export const IMPORTED_FROM = 'modelgate.dev/imported-from';

/** The result of importing one InferenceService. */
export type ImportResult =
  | { readonly kind: 'skipped' }
  | { readonly kind: 'pending'; readonly reason: string }
  | { readonly kind: 'imported'; readonly modelApi: Json };

/** Whether the InferenceService opted in. */
export function optedIn(isvc: Json, namespacesOptedIn: ReadonlySet<string>): boolean {
  const meta = (isvc.metadata ?? {}) as {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    namespace?: string;
  };
  return (
    meta.labels?.[EXPOSE_KEY] === 'true' ||
    meta.annotations?.[EXPOSE_KEY] === 'true' ||
    namespacesOptedIn.has(meta.namespace ?? 'default')
  );
}

/** The ModelAPI an InferenceService becomes. */
export function importInferenceService(isvc: Json, namespacesOptedIn: ReadonlySet<string>): ImportResult {
  if (!optedIn(isvc, namespacesOptedIn)) return { kind: 'skipped' };
  const meta = isvc.metadata as { name: string; namespace?: string; generation?: number; creationTimestamp?: string };
  const spec = (isvc.spec ?? {}) as { predictor?: Json };
  const status = (isvc.status ?? {}) as {
    address?: { url?: string };
    url?: string;
    components?: {
      predictor?: {
        traffic?: { tag?: string; percent?: number; url?: string; latestRevision?: boolean; revisionName?: string }[];
      };
    };
  };
  const predictor = spec.predictor ?? {};
  const model = (predictor.model ?? {}) as {
    protocolVersion?: string;
    runtime?: string;
    modelFormat?: { name?: string };
  };
  const protocolVersion = model.protocolVersion ?? (predictor.protocolVersion as string | undefined);
  const runtime =
    `${model.runtime ?? ''} ${model.modelFormat?.name ?? ''} ${Object.keys(predictor).join(' ')}`.toLowerCase();
  const protocol =
    protocolVersion === 'v2' ||
    protocolVersion === 'grpc-v2' ||
    (protocolVersion === undefined && /triton|tensorrt/.test(runtime))
      ? 'open-inference-v2'
      : 'kserve-v1';
  const backend = status.address?.url ?? status.url;
  if (!backend) return { kind: 'pending', reason: 'waiting for the InferenceService to report its address' };
  // Tagged revisions have their own URLs: the split (and the pin header) can then happen at the gateway.
  const tagged = (status.components?.predictor?.traffic ?? []).filter((t) => t.tag && t.url && (t.percent ?? 0) >= 0);
  const versions =
    tagged.length > 1
      ? tagged.map((t) => ({
          name: t.tag!,
          weight: t.percent ?? 0,
          modelName: meta.name,
          backend: { url: stripSlash(t.url!) },
        }))
      : [{ name: 'v1', modelName: meta.name, backend: { url: stripSlash(backend) } }];
  return {
    kind: 'imported',
    modelApi: {
      apiVersion: 'modelgate.dev/v1alpha1',
      kind: 'ModelAPI',
      metadata: {
        name: meta.name,
        namespace: meta.namespace ?? 'default',
        ...(meta.generation !== undefined ? { generation: meta.generation } : {}),
        ...(meta.creationTimestamp ? { creationTimestamp: meta.creationTimestamp } : {}),
        annotations: { [IMPORTED_FROM]: `InferenceService/${meta.namespace ?? 'default'}/${meta.name}` },
      },
      spec: { protocol, docs: { discover: true }, versions },
    },
  };
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
