/**
 * modelgate in file mode: the file source feeding the compiler feeding the data plane, plus the admin listener.
 * A reload that does not validate is reported (file, line, column, field) and changes nothing: the last good
 * snapshot keeps serving.
 */

import type { Server } from 'node:http';
import type { DestinationStream } from 'pino';
import { createAdminServer } from '../admin/admin-server.ts';
import { diffDocuments } from '../changes/diff.ts';
import { DirectoryPersistence, documentHash, type RevisionPersistence, RevisionStore } from '../changes/revisions.ts';
import { SecretRedactor } from '../common/secret-redactor.ts';
import { compileSnapshot } from '../compiler/compile.ts';
import type { ResolvedSource } from '../compiler/docs/version-source.ts';
import { CompileReuse } from '../compiler/reuse.ts';
import { snapshotProblems } from '../compiler/snapshot-gate.ts';
import { AccessLog } from '../dataplane/access-log.ts';
import { DataPlane } from '../dataplane/data-plane.ts';
import { UpstreamRegistry } from '../dataplane/upstream-registry.ts';
import { listenOn } from '../net/listen.ts';
import type { Logger } from '../observability/logger.ts';
import { GatewayMetrics } from '../observability/metrics.ts';
import { type Diagnostic, formatDiagnostic, hasErrors } from '../resources/diagnostics.ts';
import { secretStringsOf } from '../resources/secret-strings.ts';
import { type ConditionInput, condition, type ResourceStatus } from '../resources/status.ts';
import type { ResourceSet, SourceLocation } from '../resources/types.ts';
import type { Snapshot } from '../snapshot/types.ts';
import { DirectorySource } from '../sources/directory-source.ts';
import type { ResourceSource } from '../sources/resource-source.ts';
import { SpecFetcher } from '../sources/upstream-documents/spec-fetcher.ts';
import { configView } from './config-view.ts';
import { findCulprits } from './culprits.ts';
import { DocumentProcessor } from './document-processor.ts';
import { GateRejection, gateStatuses, withoutRefs } from './gate-rejection.ts';
import { healthVerdicts } from './health-verdicts.ts';
import { HttpsLifecycle } from './https-lifecycle.ts';
import { MemoryReturn } from './memory-return.ts';
import { useRedis } from './redis-lifecycle.ts';
import { StatusStore } from './status-store.ts';
import { useTracing } from './tracing-lifecycle.ts';

/** Settings of a file-mode gateway. */
export interface FileGatewayOptions {
  /** The configuration directory (file mode); ignored when `source` is given. */
  readonly configDir?: string;
  /** Another resource source (Kubernetes); default: the directory `configDir`. */
  readonly source?: ResourceSource;
  /** Told every time the published statuses change (the Kubernetes status writer). */
  readonly onStatuses?: (statuses: StatusStore) => void;
  readonly port: number;
  readonly host: string;
  readonly adminPort: number;
  readonly adminHost: string;
  readonly publicURL?: string;
  readonly logger: Logger;
  /**
   * What keeps secrets out of /config, statuses and Events — and of the logs when `logger` was made with the same one
   * (createLogger(level, redactor)). Default: a new one (then the logs are not covered).
   */
  readonly redactor?: SecretRedactor;
  /** GatewayClass controllerName that selects this gateway (Gateway API). */
  readonly controllerName?: string;
  /** `--gateway NAMESPACE/NAME`: this install's ModelGateway when a cluster has several (compiler/select-gateway.ts). */
  readonly gatewayName?: string;
  /** Bind the data plane with SO_REUSEPORT (one of several worker processes); default false. */
  readonly reusePort?: boolean;
  /** Start the admin listener (only one worker of several does); default true. */
  readonly admin?: boolean;
  /** Serve HTTPS on this port too (certificates from the ModelGateway's spec.tls). */
  readonly httpsPort?: number;
  /** Where the history of published documents survives restarts (undefined: kept in memory only). */
  readonly stateDir?: string;
  /** Another home for that history (Kubernetes: ConfigMaps owned by the ModelAPIs); takes precedence. */
  readonly revisionPersistence?: RevisionPersistence;
  /** The compiler (tests inject one that fails on a chosen resource, as an unforeseen compiler bug would). */
  readonly compile?: typeof compileSnapshot;
  /** Where access-log lines go (default: standard output, written asynchronously). */
  readonly accessLogDestination?: DestinationStream;
  /** fs.watch debounce and safety-net poll (tests shorten them). */
  readonly watch?: { debounceMs?: number; pollMs?: number } | false;
}

/** The outcome of one reload attempt. */
export interface ReloadResult {
  readonly applied: boolean;
  readonly changed: boolean;
  readonly diagnostics: readonly Diagnostic[];
}

/** A running file-mode gateway. */
export class FileGateway {
  readonly metrics = new GatewayMetrics();
  readonly registry = new UpstreamRegistry();
  readonly dataPlane: DataPlane;
  readonly statuses = new StatusStore();
  readonly redactor: SecretRedactor;
  readonly #options: FileGatewayOptions;
  readonly #log: Logger;
  #admin: Server | undefined;
  readonly #source: ResourceSource;
  #appliedHash: string | undefined;
  #lastDiagnostics: readonly Diagnostic[] = [];
  #lastError: { at: string; diagnostics: string[] } | undefined;
  #reloading: Promise<ReloadResult> | undefined;
  #reloadAgain = false;
  /** Set when the spec fetcher found something new: recompile even though no file changed. */
  #discoveryChanged = false;
  readonly #fetcher: SpecFetcher;
  #lastGood: ResourceSet | undefined;
  /** The history of published documents (the changelog). */
  readonly revisions: RevisionStore;
  /**
   * Conditions the runtime adds to the compiler's statuses, by ref and type: `Compatible` from the revision history,
   * `TLSServing` from the HTTPS listener.
   */
  #healthRun: NodeJS.Immediate | undefined;
  readonly #runtimeConditions = new Map<string, Map<string, ConditionInput>>();
  /** What each compile may reuse from the ones before (compiler/reuse.ts): owned here, for the life of the gateway. */
  readonly #reuse = new CompileReuse();
  #compiledStatuses: readonly ResourceStatus[] = [];
  /** Statuses of objects the source left out (Kubernetes: invalid resources). */
  #rejected: readonly ResourceStatus[] = [];
  #revisionRun: NodeJS.Immediate | undefined;
  #revisionQueue: Promise<void> = Promise.resolve();
  #stopping = false;
  /** Returns the heap's pooled pages to the system once reloads settle and the configuration shrank. */
  readonly #memory: MemoryReturn;
  /** Set by a reload that read something new (applied or refused), cleared when the memory check is scheduled. */
  #reloadWorked = false;
  /** Sources held back by `breakingChanges: Refuse`, and why, by `ref\0version`. */
  readonly #held = new Map<string, ResolvedSource>();
  readonly #refusals = new Map<string, string>();
  port = 0;
  /** The HTTPS listener, when `httpsPort` is set (created with the first TLS settings). */
  readonly #https: HttpsLifecycle | undefined;
  readonly #documents: DocumentProcessor;
  adminPort = 0;

  constructor(options: FileGatewayOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.redactor = options.redactor ?? new SecretRedactor();
    if (!options.source && options.configDir === undefined) throw new Error('a gateway needs configDir or a source');
    this.#source = options.source ?? new DirectorySource(options.configDir!, options.watch ?? {});
    this.dataPlane = new DataPlane(this.registry, this.metrics);
    this.dataPlane.accessLog = new AccessLog(options.accessLogDestination, (message) => this.#log.warn(message));
    this.#https =
      options.httpsPort === undefined
        ? undefined
        : new HttpsLifecycle(
            this.dataPlane,
            { port: options.httpsPort, host: options.host, reusePort: options.reusePort === true },
            options.logger,
          );
    this.revisions = new RevisionStore(
      options.revisionPersistence ??
        (options.stateDir ? new DirectoryPersistence(options.stateDir, options.admin !== false) : undefined),
    );
    this.dataPlane.revisions = this.revisions;
    this.#memory = new MemoryReturn((outcome) =>
      this.#log.debug(
        {
          highWaterMB: Math.round(outcome.highWaterBytes / 1048576),
          liveMB: Math.round(outcome.liveBytes / 1048576),
          released: outcome.released,
        },
        outcome.released ? 'heap pages returned to the system after the configuration shrank' : 'heap checked',
      ),
    );
    // One document worker: fetched documents are processed and published documents merged off the event loop.
    this.#documents = new DocumentProcessor();
    this.dataPlane.documents = this.#documents;
    this.#fetcher = new SpecFetcher({
      logger: options.logger,
      processor: this.#documents,
      onChange: () => {
        this.#discoveryChanged = true;
        void this.reload();
      },
    });
    this.registry.onHealth = (cluster, endpoint, healthy) => {
      this.metrics.setEndpointHealth(cluster, endpoint, healthy);
      // Several probes often answer in one turn: the statuses are looked at once after them.
      if (this.#healthRun) return;
      this.#healthRun = setImmediate(() => {
        this.#healthRun = undefined;
        if (this.#applyHealthVerdicts()) this.#publishStatuses();
      });
    };
  }

  /** Loads the configuration, starts both listeners and the watcher. Starts even when the first load is invalid. */
  async start(): Promise<void> {
    await this.reload();
    this.port = await this.dataPlane.listen(this.#options.port, this.#options.host, this.#options.reusePort === true);
    await this.#https?.start();
    if (this.#options.admin !== false) {
      this.#admin = createAdminServer(
        { ready: () => this.dataPlane.ready && this.#source.synced, config: () => this.configView() },
        this.metrics,
      );
      this.adminPort = await listenOn(this.#admin, this.#options.adminPort, this.#options.adminHost);
    }
    if (this.#options.watch !== false || this.#options.source) await this.#source.watch(() => void this.reload());
    this.#log.info(
      { port: this.port, adminPort: this.adminPort, source: this.#source.description },
      'modelgate serving',
    );
  }

  /** Rereads the directory; concurrent calls coalesce so the latest state always wins. */
  reload(): Promise<ReloadResult> {
    if (this.#reloading) {
      this.#reloadAgain = true;
      return this.#reloading;
    }
    // A reload never rejects: whatever goes wrong, the last good configuration keeps serving (a watcher or a fetcher
    // calls this without awaiting it, and an unhandled rejection would end the process).
    this.#reloading = this.#reloadOnce()
      .catch((err: unknown) => this.#reloadFailed(err))
      .finally(() => {
        this.#reloading = undefined;
        if (this.#reloadWorked && !this.#stopping) this.#memory.reloaded();
        this.#reloadWorked = false;
        if (this.#reloadAgain) {
          this.#reloadAgain = false;
          void this.reload();
        }
      });
    return this.#reloading;
  }

  async #reloadOnce(): Promise<ReloadResult> {
    const load = await this.#source.load();
    // Before anything about this load is logged or shown: its secrets are known (a rejected one's too).
    this.redactor.learn(secretStringsOf(load.resources));
    this.#rejected = load.rejected ?? [];
    const discoveryChanged = this.#discoveryChanged;
    this.#discoveryChanged = false;
    if (load.hash === this.#appliedHash && this.dataPlane.current && !discoveryChanged) {
      this.#lastError = undefined; // back to what is served: no change is pending
      return { applied: false, changed: false, diagnostics: this.#lastDiagnostics };
    }
    this.#reloadWorked = true;
    for (const d of load.diagnostics.filter((x) => x.severity === 'warning')) this.#log.warn(formatDiagnostic(d));
    if (hasErrors(load.diagnostics)) {
      const lines = load.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
      for (const line of lines) this.#log.error(line);
      this.#log.error(
        this.dataPlane.current
          ? 'configuration rejected; the last good configuration keeps serving'
          : 'configuration rejected',
      );
      this.#lastError = { at: new Date().toISOString(), diagnostics: lines };
      this.metrics.reloads.labels('rejected').inc();
      // New API descriptions still reach the last good configuration.
      if (discoveryChanged && this.#lastGood) this.#compileAndApply(this.#lastGood, 'API descriptions updated');
      return { applied: false, changed: false, diagnostics: load.diagnostics };
    }
    this.#compileAndApply(
      load.resources,
      load.hash === this.#appliedHash ? 'API descriptions updated' : 'configuration applied',
      load.locations,
    );
    this.#lastGood = load.resources;
    this.#appliedHash = load.hash;
    this.#lastDiagnostics = load.diagnostics;
    this.#lastError = undefined;
    this.metrics.reloads.labels('applied').inc();
    return { applied: true, changed: true, diagnostics: load.diagnostics };
  }

  /** A reload that threw (the gate refused the snapshot, or anything unforeseen): reported, nothing changed. */
  #reloadFailed(err: unknown): ReloadResult {
    const diagnostics: Diagnostic[] =
      err instanceof GateRejection
        ? err.diagnostics
        : [
            {
              severity: 'error',
              message: `the configuration could not be applied: ${err instanceof Error ? err.message : String(err)}`,
              field: '',
            },
          ];
    const lines = diagnostics.map(formatDiagnostic);
    for (const line of lines) this.#log.error(line);
    if (!(err instanceof GateRejection)) this.#log.error({ err }, 'reload failed');
    this.#log.error(
      this.dataPlane.current
        ? 'configuration rejected; the last good configuration keeps serving'
        : 'configuration rejected',
    );
    this.#lastError = { at: new Date().toISOString(), diagnostics: lines };
    this.metrics.reloads.labels('rejected').inc();
    return { applied: false, changed: false, diagnostics };
  }

  /**
   * Compiles and applies. Something that throws unforeseen (a defect, not a refusal of the gate) is traced to the
   * ModelAPIs and HTTPRoutes that cause it: from files the change is refused naming them (with file and line); from a
   * cluster they are left out with Accepted=False (reason InternalError) and everything else is served. What cannot
   * be traced to a resource leaves the last good configuration serving.
   */
  #compileAndApply(given: ResourceSet, message: string, locations?: ReadonlyMap<string, SourceLocation>): void {
    try {
      this.#compileAndApplyOnce(given, message, locations, []);
    } catch (err) {
      if (err instanceof GateRejection) throw err;
      const culprits = this.#culprits(given);
      if (culprits.length === 0) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      this.#log.error({ err, resources: culprits }, 'building the configuration failed; traced to these resources');
      const problems = culprits.map((ref) => ({
        ref,
        message: `could not be built (a defect of modelgate): ${reason}`,
      }));
      if (!this.#options.source) throw new GateRejection(problems, locations);
      this.#compileAndApplyOnce(
        withoutRefs(given, new Set(culprits)),
        message,
        locations,
        problems.map((p) => ({ ref: p.ref, conditions: [condition('Accepted', 'False', 'InternalError', p.message)] })),
      );
    }
  }

  /** The ModelAPIs and HTTPRoutes to blame for a configuration that does not build (see culprits.ts). */
  #culprits(resources: ResourceSet): string[] {
    return findCulprits(resources, (without) => {
      try {
        const { snapshot } = this.#compile(withoutRefs(resources, without));
        if (snapshotProblems(snapshot).length > 0) return true; // the gate's business, not a defect
        this.dataPlane.trialBuild(snapshot);
        return true;
      } catch {
        return false;
      }
    });
  }

  #compile(resources: ResourceSet) {
    return (this.#options.compile ?? compileSnapshot)(resources, {
      ...(this.#options.publicURL !== undefined ? { defaultPublicURL: this.#options.publicURL } : {}),
      discovered: this.#fetcher.discovered(),
      ...(this.#options.controllerName ? { controllerName: this.#options.controllerName } : {}),
      ...(this.#options.gatewayName ? { gatewayName: this.#options.gatewayName } : {}),
      heldSources: this.#held,
      reuse: this.#reuse,
    });
  }

  #compileAndApplyOnce(
    given: ResourceSet,
    message: string,
    locations: ReadonlyMap<string, SourceLocation> | undefined,
    extraStatuses: readonly ResourceStatus[],
  ): void {
    let resources = given;
    const compile = () => this.#compile(resources);
    let { snapshot, statuses } = compile();
    // The gate: what the data plane cannot serve is refused here, by resource, before anything changes. From files
    // the change is refused whole (as for any error, with the file and line); from a cluster the resources to blame
    // are left out and marked Accepted=False, and everything else is served.
    const problems = snapshotProblems(snapshot);
    if (problems.length > 0) {
      const refs = new Set(problems.map((p) => p.ref));
      if (!this.#options.source || refs.has('ModelGateway') || refs.has('Cluster'))
        throw new GateRejection(problems, locations);
      resources = withoutRefs(resources, refs);
      ({ snapshot, statuses } = compile());
      const left = snapshotProblems(snapshot);
      if (left.length > 0) throw new GateRejection(left, locations);
      statuses = [...statuses.filter((s) => !refs.has(s.ref)), ...gateStatuses(problems)];
    }
    // A breaking document of a `breakingChanges: Refuse` API is never served: held back before the snapshot applies.
    if (this.#decideHolds(snapshot)) ({ snapshot, statuses } = compile());
    this.dataPlane.apply(snapshot);
    useRedis(this.dataPlane, snapshot.gateway.redis, this.#log, this.metrics);
    useTracing(this.dataPlane, snapshot.gateway.tracing, this.#log);
    this.#fetcher.update(snapshot.docs.tasks, snapshot.clusters);
    this.#compiledStatuses = extraStatuses.length > 0 ? [...statuses, ...extraStatuses] : statuses;
    this.#applyTls(snapshot);
    void this.metrics.retain(
      new Set(snapshot.routes.map((r) => r.labels.api)),
      new Set(
        Object.values(snapshot.clusters).flatMap((c) =>
          c.endpoints.map((e) => GatewayMetrics.endpointKey(c.name, e.origin)),
        ),
      ),
    );
    this.#applyHealthVerdicts();
    this.#publishStatuses();
    // Revisions are recorded after the reload, off its path (hashing every document of a large config takes time).
    if (this.#revisionRun) clearImmediate(this.#revisionRun);
    this.#revisionRun = setImmediate(() => {
      this.#revisionRun = undefined;
      // One run at a time: the store's observations must not overlap (each awaits the document worker).
      this.#revisionQueue = this.#revisionQueue
        .then(() => this.#recordRevisions(snapshot))
        .catch((err: unknown) => this.#log.error({ err }, 'recording API revisions failed'));
    });
    this.#log.info({ routes: snapshot.routes.length, apis: snapshot.apis.length }, message);
  }

  /**
   * For APIs with `breakingChanges: Refuse`: holds back a version whose new document breaks its latest revision
   * (the revision's source is documented instead), and releases a held version once its candidate no longer breaks.
   * Returns whether the holds changed (the snapshot must then be compiled again).
   */
  #decideHolds(snapshot: Snapshot): boolean {
    let changed = false;
    const refusing = new Set<string>();
    for (const api of snapshot.docs.apis) {
      for (const v of api.versions) {
        if (v.origin === undefined) continue; // not a Refuse API
        const key = `${api.ref}\0${v.name}`;
        refusing.add(key);
        const latest = this.revisions.latestEntry(api.ref, v.name);
        if (!latest || api.documented.status !== 'True') continue;
        const candidate = (v.candidate ?? v.part.document) as Record<string, unknown>;
        if (!v.candidate && documentHash(candidate) === latest.revision.hash) continue;
        const breaking = diffDocuments(latest.document, candidate).filter((c) => c.level === 'breaking');
        if (breaking.length > 0) {
          this.#refusals.set(
            key,
            `${v.name}: a new document with ${breaking.length} breaking change(s) (${[...new Set(breaking.map((c) => c.rule))].join(', ')}) was not published; revision ${latest.revision.revision} keeps serving — publish it as a new version, or set docs.breakingChanges: Allow`,
          );
          if (!v.candidate && latest.origin !== undefined) {
            this.#held.set(key, latest.origin as ResolvedSource);
            this.#log.warn(
              { resource: api.ref, version: v.name, breaking: breaking.map((c) => c.rule) },
              'breaking API change refused',
            );
            changed = true;
          }
        } else if (v.candidate) {
          this.#held.delete(key);
          this.#refusals.delete(key);
          changed = true;
        }
      }
    }
    for (const key of [...this.#held.keys()])
      if (!refusing.has(key)) {
        // The API is gone or allows breaking changes now: nothing to hold.
        this.#held.delete(key);
        this.#refusals.delete(key);
        changed = true;
      }
    return changed;
  }

  /** The bound HTTPS port (0 while there is none). */
  get httpsPort(): number {
    return this.#https?.port ?? 0;
  }

  /** Hands the snapshot's TLS settings to the HTTPS listener and reports what it could not load as `TLSServing`. */
  #applyTls(snapshot: Snapshot): void {
    const serving = this.#https?.apply(snapshot);
    const ref = this.#compiledStatuses.find((s) => s.ref.startsWith('ModelGateway/'))?.ref;
    if (serving && ref) this.#setRuntimeCondition(ref, serving);
  }

  /** Sets each ModelAPI's `Ready` from the health checks (health-verdicts.ts); true when one changed. */
  #applyHealthVerdicts(): boolean {
    const snapshot = this.dataPlane.current;
    if (!snapshot) return false;
    let changed = false;
    const verdicts = healthVerdicts(snapshot, this.#compiledStatuses, (c) => this.dataPlane.clusterHealth(c));
    for (const [ref, verdict] of verdicts) {
      if (verdict) changed = this.#setRuntimeCondition(ref, verdict) || changed;
      else changed = this.#clearRuntimeCondition(ref, 'Ready') || changed;
    }
    return changed;
  }

  /** Removes a runtime condition; true when there was one. */
  #clearRuntimeCondition(ref: string, type: string): boolean {
    return this.#runtimeConditions.get(ref)?.delete(type) ?? false;
  }

  /** Sets a runtime condition; true when it differs from the one it replaces. */
  #setRuntimeCondition(ref: string, next: ConditionInput): boolean {
    const byType = this.#runtimeConditions.get(ref) ?? new Map<string, ConditionInput>();
    this.#runtimeConditions.set(ref, byType);
    const previous = byType.get(next.type);
    byType.set(next.type, next);
    return previous?.status !== next.status || previous.reason !== next.reason || previous.message !== next.message;
  }

  /** Publishes the compiler's statuses plus what the revision history says, logging conditions that changed. */
  #publishStatuses(): void {
    const statuses = [
      ...this.#compiledStatuses.map((s) => {
        const extra = this.#runtimeConditions.get(s.ref);
        // A runtime condition (health, TLS) replaces the compiler's of the same type.
        return extra && extra.size > 0
          ? { ...s, conditions: [...s.conditions.filter((c) => !extra.has(c.type)), ...extra.values()] }
          : s;
      }),
      ...this.#rejected,
    ];
    const changed = this.statuses.update(statuses, new Date());
    for (const ref of changed) {
      const status = this.statuses.get(ref)!;
      for (const c of status.conditions) {
        const fields = { resource: ref, condition: c.type, status: c.status, reason: c.reason };
        if (c.status === 'True') this.#log.info(fields, c.message);
        else this.#log.warn(fields, c.message);
      }
    }
    this.#options.onStatuses?.(this.statuses);
  }

  /**
   * Records a revision for every version whose published document changed. A breaking change published under an
   * existing version name is logged and shows as `Compatible=False` in the ModelAPI's status until a later revision
   * of that version is compatible again (consumers should get a new version instead).
   */
  /**
   * Records the revisions of a snapshot's documents; the hashing and diffing run in the document worker. Given up
   * when a newer snapshot is in place meanwhile (its own run follows) or the gateway stops.
   */
  async #recordRevisions(snapshot: Snapshot): Promise<void> {
    const replaced = () => this.#stopping || this.dataPlane.current !== snapshot;
    if (replaced()) return;
    const now = new Date();
    let changed = false;
    for (const api of snapshot.docs.apis) {
      // Until discovery answers (or while it fails) the document is a placeholder: not a revision.
      if (api.documented.status !== 'True') continue;
      const generation = this.statuses.get(api.ref)?.observedGeneration;
      for (const v of api.versions) {
        if (replaced()) return;
        const revision = await this.revisions.observeOffThread(
          {
            api: api.ref,
            version: v.name,
            document: v.part.document as Record<string, unknown>,
            source: v.source,
            ...(generation !== undefined ? { generation } : {}),
            ...(v.origin !== undefined ? { origin: v.origin } : {}),
          },
          (job) => this.#documents.run(job),
          now,
        );
        if (!revision) continue;
        this.#log.info(
          { resource: api.ref, version: v.name, revision: revision.revision, changes: revision.changes.length },
          'API revision recorded',
        );
        if (revision.breaking > 0)
          this.#log.warn(
            {
              resource: api.ref,
              version: v.name,
              revision: revision.revision,
              breaking: revision.changes.filter((c) => c.level === 'breaking').map((c) => `${c.rule} ${c.pointer}`),
            },
            'breaking API change published without a new version',
          );
      }
      const latest = api.versions.map((v) => this.revisions.latest(api.ref, v.name));
      const broken = latest.filter((r) => r !== undefined && r.breaking > 0);
      const refused = api.versions.flatMap((v) =>
        v.candidate ? [this.#refusals.get(`${api.ref}\0${v.name}`) ?? `${v.name}: a breaking change was refused`] : [],
      );
      const next = refused.length
        ? condition('Compatible', 'False', 'BreakingChangeRefused', refused.join('; '))
        : broken.length
          ? condition(
              'Compatible',
              'False',
              'BreakingChange',
              broken
                .map(
                  (r) =>
                    `${r!.version} revision ${r!.revision}: ${r!.breaking} breaking change(s) without a new version`,
                )
                .join('; '),
            )
          : condition('Compatible', 'True', 'Compatible', 'no breaking change in the latest revisions');
      if (this.#setRuntimeCondition(api.ref, next)) changed = true;
    }
    // Documents of versions no longer served go (their revisions stay): a removed API gives its memory back.
    const served = new Set(snapshot.docs.apis.flatMap((a) => a.versions.map((v) => `${a.ref}\0${v.name}`)));
    this.revisions.releaseDocuments((api, version) => served.has(`${api}\0${version}`));
    if (changed) this.#publishStatuses();
  }

  /** The /config view: the snapshot in effect, every status, and the last rejected change if any. */
  configView(): unknown {
    return this.redactor.redactJson(configView(this.dataPlane.current, this.statuses.all(), this.#lastError));
  }

  /** Graceful stop: readiness goes false, in-flight requests drain, then everything closes. */
  async stop(drainMs = this.dataPlane.current?.gateway.drainTimeoutMs ?? 30_000): Promise<void> {
    await this.#source.close();
    this.#stopping = true;
    this.#memory.close();
    if (this.#revisionRun) clearImmediate(this.#revisionRun);
    if (this.#healthRun) clearImmediate(this.#healthRun);
    await this.#fetcher.close();
    await this.dataPlane.globalLimiter?.close();
    await Promise.all([this.dataPlane.shutdown(drainMs), this.#https?.close(drainMs)]);
    // After the drain: the spans of the last requests are exported too.
    await this.dataPlane.tracing?.shutdown();
    await this.#documents.close();
    this.dataPlane.accessLog?.close();
    await new Promise<void>((resolve) => (this.#admin ? this.#admin.close(() => resolve()) : resolve()));
    this.#admin?.closeAllConnections();
    await this.registry.close();
  }
}
