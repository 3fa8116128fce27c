/**
 * The Kubernetes source: supervised informers for ModelAPI, ModelGateway, Service and EndpointSlice (all namespaces or
 * the listed ones), and for the Secrets and ConfigMaps the resources reference or select by label — never all of them.
 * Level-triggered like the file source: every change only says "changed"; `load` builds the whole ResourceSet from the
 * caches. Invalid custom resources are left out and reported (`Accepted=False`, reason `Invalid`); the rest is served.
 * A periodic resync recompiles from the caches even when nothing was heard.
 */
import { createHash } from 'node:crypto';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../observability/logger.ts';
import type { Diagnostic } from '../../resources/diagnostics.ts';
import { condition, type ResourceStatus } from '../../resources/status.ts';
import { refKey, refOf } from '../../resources/types.ts';
import type { BackendTLSPolicy } from '../../schema/gateway-api.ts';
import type { InferencePool } from '../../schema/inference-pool.ts';
import type { ModelAPI } from '../../schema/model-api.ts';
import type { ModelGateway } from '../../schema/model-gateway.ts';
import { type SchemaViolation, validateResource } from '../../schema/validate.ts';
import { collect } from '../load-directory.ts';
import type { LocatedObject } from '../parse-yaml.ts';
import type { ResourceSource, SourceLoad } from '../resource-source.ts';
import { type ImportResult, importInferenceService, NAMESPACE_IMPORT_LABEL } from './kserve-import.ts';
import { kubeGet } from './kube-request.ts';
import { importSeldonResource, SELDON_NAMESPACE_LABEL, type SeldonImport } from './seldon-import.ts';
import { type Backoff, WatchedKind, type WatchSpec } from './watched-kind.ts';

/** Settings of the Kubernetes source. */
export interface KubeSourceOptions {
  readonly kubeConfig: KubeConfig;
  /** Namespaces to watch; empty or absent: all. */
  readonly namespaces?: readonly string[];
  readonly logger: Logger;
  /** Recompile from the caches this often even without events (default 5 min). */
  readonly resyncMs?: number;
  readonly backoff?: Backoff;
}

/** Kinds always watched: group path, version, plural, kind. */
const PRIMARY: readonly { apiVersion: string; plural: string; kind: string }[] = [
  { apiVersion: 'modelgate.dev/v1alpha1', plural: 'modelapis', kind: 'ModelAPI' },
  { apiVersion: 'modelgate.dev/v1alpha1', plural: 'modelgateways', kind: 'ModelGateway' },
  { apiVersion: 'v1', plural: 'services', kind: 'Service' },
  { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', kind: 'EndpointSlice' },
];

/** The collection path of a kind, in one namespace or all. */
export function collectionPath(apiVersion: string, plural: string, namespace?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${base}${namespace ? `/namespaces/${namespace}` : ''}/${plural}`;
}

/** Resources from the API server. */
export class KubeSource implements ResourceSource {
  readonly description: string;
  readonly #options: KubeSourceOptions;
  readonly #log: Logger;
  readonly #primary: WatchedKind[] = [];
  /** Secret and ConfigMap informers, by a key of what they select; started and stopped as references change. */
  readonly #referenced = new Map<string, WatchedKind>();
  /** InferenceService and opted-in Namespace informers, started once the KServe API is found. */
  readonly #kserve: WatchedKind[] = [];
  /** Seldon Core v2 Model, Pipeline, Experiment and opted-in Namespace informers, once mlops.seldon.io is found. */
  readonly #seldon: WatchedKind[] = [];
  /** Gateway API informers (GatewayClass, Gateway, HTTPRoute, ReferenceGrant, Namespace), once the API is found. */
  readonly #gatewayApi: WatchedKind[] = [];
  /** InferencePool informers, once the Inference Extension's API is found (their Pods are followed by selector). */
  readonly #inference: WatchedKind[] = [];
  /** Imported ModelAPI ref → what it was imported from (an InferenceService, a Seldon resource), from the last load. */
  #imports = new Map<string, KubernetesObject>();
  /** Per informer object (weakly: a changed object is a new one, the old one goes): cleaned and validated. */
  readonly #cleaned = new WeakMap<
    object,
    { object: LocatedObject['object']; violations: readonly SchemaViolation[] }
  >();
  /** Per imported-from object and opt-in: its import (the same ModelAPI object while neither changes). */
  readonly #importsOf = new WeakMap<object, { opted: boolean; result: ImportResult | SeldonImport }>();
  #onChange: (() => void) | undefined;
  #resync: NodeJS.Timeout | undefined;
  #started = false;

  constructor(options: KubeSourceOptions) {
    this.#options = options;
    this.#log = options.logger;
    const server = options.kubeConfig.getCurrentCluster()?.server ?? 'no cluster';
    this.description = `${server} (${options.namespaces?.length ? `namespaces ${options.namespaces.join(', ')}` : 'all namespaces'})`;
  }

  /**
   * Whether every primary kind has been listed. Until then changes are held back: a ModelAPI seen before its Service
   * would be compiled as broken and say so in its status and Events. (Referenced Secrets and ConfigMaps follow the
   * resources that name them, a moment later; a Secret the gateway may not read must not keep it unready forever.)
   */
  get synced(): boolean {
    return this.#started && this.#primary.every((w) => w.synced);
  }

  async watch(onChange: () => void): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#onChange = onChange;
    const namespaces = this.#options.namespaces?.length ? this.#options.namespaces : [undefined];
    for (const k of PRIMARY)
      for (const ns of namespaces) {
        const w = this.#watcher({
          apiVersion: k.apiVersion,
          kind: k.kind,
          path: collectionPath(k.apiVersion, k.plural, ns),
        });
        this.#primary.push(w);
        w.start();
      }
    void this.#discoverKServe();
    void this.#discoverSeldon();
    void this.#discoverGatewayApi();
    void this.#discoverInferencePools();
    this.#resync = setInterval(() => {
      if (this.#kserve.length === 0) void this.#discoverKServe();
      if (this.#seldon.length === 0) void this.#discoverSeldon();
      if (this.#gatewayApi.length === 0) void this.#discoverGatewayApi();
      if (this.#inference.length === 0) void this.#discoverInferencePools();
      if (this.synced) onChange();
    }, this.#options.resyncMs ?? 300_000);
    this.#resync.unref();
  }

  async load(): Promise<SourceLoad> {
    const primary = this.#primary.flatMap((w) => w.objects());
    const pools = this.#inference.flatMap((w) => w.objects());
    this.#followReferences([...primary, ...this.#gatewayApi.flatMap((w) => w.objects()), ...pools]);
    const all = [
      ...primary,
      ...[...this.#referenced.values()].flatMap((w) => w.objects()),
      ...this.#gatewayApi.flatMap((w) => w.objects()),
      ...pools,
    ];
    const rejected: ResourceStatus[] = [];
    const imports = new Map<string, KubernetesObject>();
    all.push(...this.#importAll(primary, rejected, imports));
    this.#imports = imports;
    const located: LocatedObject[] = [];
    const hash = createHash('sha256');
    const seen = new Set<string>();
    for (const raw of all) {
      // The informer keeps an object until it changes: so does this (the compiler reuses what it compiled from the
      // same objects, and validation is not repeated for an unchanged one).
      const { object, violations } = this.#checked(raw);
      const meta = object.metadata as { resourceVersion?: string; generation?: number };
      const key = refKey(refOf(object));
      if (seen.has(key)) continue; // a Secret both referenced and selected
      seen.add(key);
      hash.update(`${key}@${meta.resourceVersion ?? ''}\n`);
      if (violations.length > 0) {
        // The API server validated against the CRD; this catches what only modelgate's schema says (and a CRD
        // older than this gateway). The object is left out; everything else is served.
        rejected.push({
          ref: key,
          ...(meta.generation !== undefined ? { observedGeneration: Number(meta.generation) } : {}),
          conditions: [
            condition(
              'Accepted',
              'False',
              'Invalid',
              violations.map((v) => `${v.pointer.slice(1).replace(/\//g, '.') || '<root>'}: ${v.message}`).join('; '),
            ),
          ],
        });
        continue;
      }
      located.push({ object, location: { file: `kube:${key}`, line: 1, column: 1 } });
    }
    const diagnostics: Diagnostic[] = [];
    const { resources } = collect(located, diagnostics);
    return { resources, diagnostics, hash: hash.digest('hex'), rejected };
  }

  /** An informer's object as the compiler gets it (status and managed fields dropped), validated; once per object. */
  #checked(raw: KubernetesObject): { object: LocatedObject['object']; violations: readonly SchemaViolation[] } {
    let entry = this.#cleaned.get(raw);
    if (!entry) {
      const object = cleaned(raw);
      entry = { object, violations: validateResource(object) ?? [] };
      this.#cleaned.set(raw, entry);
    }
    return entry;
  }

  /** The status the API server holds for `Kind/namespace/name` (cluster-scoped: `-`), from the caches. */
  statusOf(ref: string): Record<string, unknown> | undefined {
    const [kind, namespace, name] = ref.split('/');
    for (const w of [...this.#primary, ...this.#gatewayApi, ...this.#inference]) {
      if (w.spec.kind !== kind) continue;
      const found = w
        .objects()
        .find(
          (o) => o.metadata?.name === name && (namespace === '-' || (o.metadata?.namespace ?? 'default') === namespace),
        );
      if (found) return (found as { status?: Record<string, unknown> }).status;
    }
    return undefined;
  }

  /** Imported ModelAPI refs and their InferenceServices (as last loaded). */
  get imports(): ReadonlyMap<string, KubernetesObject> {
    return this.#imports;
  }

  /** Starts the Gateway API informers when the API server serves gateway.networking.k8s.io/v1. */
  async #discoverGatewayApi(): Promise<void> {
    // Which Gateway API resources are installed (BackendTLSPolicy and ReferenceGrant may be missing from older sets).
    const served = new Set<string>();
    for (const version of ['v1', 'v1beta1']) {
      try {
        const list = await kubeGet(this.#options.kubeConfig, `/apis/gateway.networking.k8s.io/${version}`, 5000);
        for (const r of (list.resources ?? []) as { name: string }[]) served.add(`${version}/${r.name}`);
      } catch {
        // this version is not served
      }
    }
    if (!served.has('v1/httproutes') || this.#gatewayApi.length > 0) return;
    const namespaces = this.#options.namespaces?.length ? this.#options.namespaces : [undefined];
    const g = 'gateway.networking.k8s.io';
    const kinds: [version: string, plural: string, kind: string][] = [
      ['v1', 'gateways', 'Gateway'],
      ['v1', 'httproutes', 'HTTPRoute'],
      ['v1beta1', 'referencegrants', 'ReferenceGrant'],
      ['v1', 'backendtlspolicies', 'BackendTLSPolicy'],
    ];
    const specs: WatchSpec[] = [
      { apiVersion: `${g}/v1`, kind: 'GatewayClass', path: collectionPath(`${g}/v1`, 'gatewayclasses') },
      // Namespaces: listeners admit routes by namespace labels.
      { apiVersion: 'v1', kind: 'Namespace', path: '/api/v1/namespaces' },
      ...namespaces.flatMap((ns) =>
        kinds
          .filter(([version, plural]) => served.has(`${version}/${plural}`))
          .map(([version, plural, kind]) => ({
            apiVersion: `${g}/${version}`,
            kind,
            path: collectionPath(`${g}/${version}`, plural, ns),
          })),
      ),
    ];
    for (const spec of specs) this.#gatewayApi.push(this.#watcher(spec));
    for (const w of this.#gatewayApi) w.start();
  }

  /**
   * Starts the InferencePool informers when the API server serves inference.networking.k8s.io/v1 (checked again on
   * every resync). The Pods of each pool are then followed by its label selector (#followReferences), never all Pods.
   */
  async #discoverInferencePools(): Promise<void> {
    const api = 'inference.networking.k8s.io/v1';
    try {
      const list = await kubeGet(this.#options.kubeConfig, `/apis/${api}`, 5000);
      if (!((list.resources ?? []) as { name: string }[]).some((r) => r.name === 'inferencepools')) return;
    } catch {
      return; // the Inference Extension is not installed (or not reachable yet)
    }
    if (this.#inference.length > 0) return;
    const namespaces = this.#options.namespaces?.length ? this.#options.namespaces : [undefined];
    for (const ns of namespaces)
      this.#inference.push(
        this.#watcher({ apiVersion: api, kind: 'InferencePool', path: collectionPath(api, 'inferencepools', ns) }),
      );
    for (const w of this.#inference) w.start();
  }

  /** Starts the KServe informers when the API server serves InferenceServices (checked again on every resync). */
  async #discoverKServe(): Promise<void> {
    try {
      await kubeGet(this.#options.kubeConfig, '/apis/serving.kserve.io/v1beta1', 5000);
    } catch {
      return; // KServe is not installed (or not reachable yet)
    }
    if (this.#kserve.length > 0) return;
    const namespaces = this.#options.namespaces?.length ? this.#options.namespaces : [undefined];
    for (const ns of namespaces)
      this.#kserve.push(
        this.#watcher({
          apiVersion: 'serving.kserve.io/v1beta1',
          kind: 'InferenceService',
          path: collectionPath('serving.kserve.io/v1beta1', 'inferenceservices', ns),
        }),
      );
    this.#kserve.push(
      this.#watcher({
        apiVersion: 'v1',
        kind: 'Namespace',
        path: '/api/v1/namespaces',
        labelSelector: `${NAMESPACE_IMPORT_LABEL}=enabled`,
      }),
    );
    for (const w of this.#kserve) w.start();
  }

  /** Starts the Seldon Core v2 informers when the API server serves mlops.seldon.io/v1alpha1. */
  async #discoverSeldon(): Promise<void> {
    const api = 'mlops.seldon.io/v1alpha1';
    try {
      await kubeGet(this.#options.kubeConfig, `/apis/${api}`, 5000);
    } catch {
      return; // Seldon Core v2 is not installed (or not reachable yet)
    }
    if (this.#seldon.length > 0) return;
    const namespaces = this.#options.namespaces?.length ? this.#options.namespaces : [undefined];
    for (const [kind, plural] of [
      ['Model', 'models'],
      ['Pipeline', 'pipelines'],
      ['Experiment', 'experiments'],
    ] as const)
      for (const ns of namespaces)
        this.#seldon.push(this.#watcher({ apiVersion: api, kind, path: collectionPath(api, plural, ns) }));
    this.#seldon.push(
      this.#watcher({
        apiVersion: 'v1',
        kind: 'Namespace',
        path: '/api/v1/namespaces',
        labelSelector: `${SELDON_NAMESPACE_LABEL}=enabled`,
      }),
    );
    for (const w of this.#seldon) w.start();
  }

  /**
   * ModelAPIs for what opted in to an import — InferenceServices (kserve-import.ts), Seldon Models, Pipelines and
   * Experiments (seldon-import.ts) — each source with its own informers and opted-in Namespaces. What waits, is not
   * imported, or is named like a ModelAPI of its own (or an earlier import) is reported in `rejected`; `imports` maps
   * each imported ModelAPI to what it came from (its status goes there).
   */
  #importAll(
    primary: readonly KubernetesObject[],
    rejected: ResourceStatus[],
    imports: Map<string, KubernetesObject>,
  ): KubernetesObject[] {
    const out: KubernetesObject[] = [];
    const taken = new Set(
      primary
        .filter((o) => o.kind === 'ModelAPI')
        .map((o) => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`),
    );
    const sources = [
      { watchers: this.#kserve, importer: importInferenceService, versionPrefix: 'isvc' },
      { watchers: this.#seldon, importer: importSeldonResource, versionPrefix: 'seldon' },
    ];
    for (const { watchers, importer, versionPrefix } of sources) {
      const optedNamespaces = new Set(
        watchers
          .filter((w) => w.spec.kind === 'Namespace')
          .flatMap((w) => w.objects().map((n) => n.metadata?.name ?? '')),
      );
      for (const object of watchers.filter((w) => w.spec.kind !== 'Namespace').flatMap((w) => w.objects())) {
        const opted = optedNamespaces.has(object.metadata?.namespace ?? 'default');
        let cached = this.#importsOf.get(object);
        if (cached?.opted !== opted) {
          cached = { opted, result: importer(object as unknown as Record<string, unknown>, optedNamespaces) };
          this.#importsOf.set(object, cached);
        }
        const result = cached.result;
        if (result.kind === 'skipped') continue;
        const key = `${object.metadata?.namespace ?? 'default'}/${object.metadata?.name}`;
        const ref = `${object.kind}/${key}`;
        if (taken.has(key)) {
          rejected.push({
            ref,
            conditions: [condition('Accepted', 'False', 'NameTaken', `a ModelAPI ${key} exists; not imported`)],
          });
          continue;
        }
        if (result.kind === 'pending' || result.kind === 'not-imported') {
          const pending = result.kind === 'pending';
          rejected.push({
            ref,
            conditions: [
              condition('Accepted', pending ? 'Unknown' : 'False', pending ? 'Pending' : 'NotImported', result.reason),
            ],
          });
          continue;
        }
        taken.add(key);
        // The source's version stands for the ModelAPI's: a change of either is a change.
        const modelApi = result.modelApi as unknown as KubernetesObject;
        if (modelApi.metadata && object.metadata?.resourceVersion)
          modelApi.metadata.resourceVersion = `${versionPrefix}-${object.metadata.resourceVersion}`;
        out.push(modelApi);
        imports.set(`ModelAPI/${key}`, object);
      }
    }
    return out;
  }

  /** The uid of a cached ModelAPI (owner references point at it). */
  modelApiUid(namespace: string, name: string): string | undefined {
    for (const w of this.#primary) {
      if (w.spec.kind !== 'ModelAPI') continue;
      const found = w.objects().find((o) => o.metadata?.namespace === namespace && o.metadata?.name === name);
      if (found) return found.metadata?.uid;
    }
    return undefined;
  }

  async close(): Promise<void> {
    if (this.#resync) clearInterval(this.#resync);
    for (const w of [
      ...this.#primary,
      ...this.#referenced.values(),
      ...this.#kserve,
      ...this.#seldon,
      ...this.#gatewayApi,
      ...this.#inference,
    ])
      w.stop();
  }

  #watcher(spec: WatchSpec): WatchedKind {
    return new WatchedKind(
      this.#options.kubeConfig,
      spec,
      () => {
        if (this.synced) this.#onChange?.();
      },
      this.#log,
      this.#options.backoff ?? { baseMs: 1000, maxMs: 30_000 },
    );
  }

  /** Starts informers for newly referenced Secrets and ConfigMaps and stops those no longer referenced. */
  #followReferences(primary: readonly KubernetesObject[]): void {
    const wanted = new Map<string, WatchSpec>();
    const named = (kind: 'Secret' | 'ConfigMap', namespace: string, name: string) => {
      const plural = kind === 'Secret' ? 'secrets' : 'configmaps';
      wanted.set(`${kind}|${namespace}|name=${name}`, {
        apiVersion: 'v1',
        kind,
        path: collectionPath('v1', plural, namespace),
        fieldSelector: `metadata.name=${name}`,
      });
    };
    /** The objects of a kind one namespace's labels select (Secrets by an API-key selector, a pool's Pods). */
    const selected = (kind: 'Secret' | 'Pod', namespace: string, labels: Record<string, string>) => {
      const selector = Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(',');
      wanted.set(`${kind}|${namespace}|labels=${selector}`, {
        apiVersion: 'v1',
        kind,
        path: collectionPath('v1', kind === 'Secret' ? 'secrets' : 'pods', namespace),
        labelSelector: selector,
      });
    };
    for (const o of primary) {
      const namespace = o.metadata?.namespace ?? 'default';
      if (o.kind === 'ModelGateway') {
        const tls = (o as unknown as ModelGateway).spec?.tls;
        for (const c of tls?.certificates ?? []) named('Secret', c.namespace ?? namespace, c.name);
        if (tls?.clientAuth)
          named('Secret', tls.clientAuth.caSecret.namespace ?? namespace, tls.clientAuth.caSecret.name);
        const redis = (o as unknown as ModelGateway).spec?.redis;
        if (redis?.auth) named('Secret', redis.auth.namespace ?? namespace, redis.auth.name);
        if (redis?.tls?.caSecret) named('Secret', redis.tls.caSecret.namespace ?? namespace, redis.tls.caSecret.name);
        for (const p of (o as unknown as ModelGateway).spec?.auth?.providers ?? []) {
          for (const s of p.apiKey?.secrets ?? []) named('Secret', s.namespace ?? namespace, s.name);
          const labels = p.apiKey?.secretSelector?.matchLabels;
          if (labels) selected('Secret', namespace, labels);
        }
      } else if (o.kind === 'InferencePool') {
        const labels = (o as unknown as InferencePool).spec?.selector?.matchLabels;
        if (labels && Object.keys(labels).length > 0) selected('Pod', namespace, labels);
      } else if (o.kind === 'BackendTLSPolicy') {
        const refs = (o as unknown as BackendTLSPolicy).spec?.validation?.caCertificateRefs ?? [];
        for (const ref of refs) if (ref.kind === 'ConfigMap') named('ConfigMap', namespace, ref.name);
      } else if (o.kind === 'ModelAPI') {
        const spec = (o as unknown as ModelAPI).spec;
        const refs = [
          spec?.docs?.openAPI?.configMapRef,
          ...(spec?.versions ?? []).map((v) => v.docs?.openAPI?.configMapRef),
        ];
        for (const ref of refs) if (ref) named('ConfigMap', namespace, ref.name);
        for (const v of spec?.versions ?? []) {
          const t = v.backend.tls;
          if (t?.caSecret) named('Secret', t.caSecret.namespace ?? namespace, t.caSecret.name);
          if (t?.clientCertificate)
            named('Secret', t.clientCertificate.namespace ?? namespace, t.clientCertificate.name);
        }
      }
    }
    for (const [key, w] of this.#referenced)
      if (!wanted.has(key)) {
        w.stop();
        this.#referenced.delete(key);
      }
    for (const [key, spec] of wanted)
      if (!this.#referenced.has(key)) {
        const w = this.#watcher(spec);
        this.#referenced.set(key, w);
        w.start();
      }
  }
}

/** The object as the compiler wants it: apiVersion/kind set, managed fields and our own status left out. */
function cleaned(raw: KubernetesObject): LocatedObject['object'] {
  const { status: _status, ...rest } = raw as KubernetesObject & { status?: unknown };
  const keepStatus = raw.kind !== 'ModelAPI' && raw.kind !== 'ModelGateway';
  const { managedFields: _m, ...metadata } = (raw.metadata ?? {}) as Record<string, unknown>;
  return {
    ...(keepStatus && _status !== undefined ? { status: _status } : {}),
    ...rest,
    metadata,
  } as unknown as LocatedObject['object'];
}
