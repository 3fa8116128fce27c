/**
 * The data plane: a node:http server that answers each request from the snapshot current at its arrival.
 * Per request: request id → match → pick version (pin header, else weights) → rewrite path → forward.
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { RevisionStore } from '../changes/revisions.ts';
import type { PublishRunner } from '../docsplane/published.ts';
import { SignOnGate } from '../docsplane/sign-on/sign-on-gate.ts';
import type { ErrorName } from '../errors/catalog.ts';
import { sendProblem } from '../errors/problem.ts';
import { listenOn } from '../net/listen.ts';
import type { EndpointLoadSample, GatewayMetrics } from '../observability/metrics.ts';
import type { RouteStats } from '../observability/request-stats.ts';
import { type AuthOutcome, authenticate, JwksCache, verifiedClientSubject } from '../policies/auth/authenticate.ts';
import { setIdentityHeaders } from '../policies/auth/identity-headers.ts';
import { authorized } from '../policies/auth/request.ts';
import { ResponseCache } from '../policies/cache/response-cache.ts';
import { NEXT, type PolicyContext, REJECTED, type RequestPhase, type Verdict } from '../policies/phase.ts';
import type { GlobalRateLimiter } from '../policies/rate-limit/global-limiter.ts';
import { RateLimiter } from '../policies/rate-limit/limiter.ts';
import type { ListenerSettings, Snapshot } from '../snapshot/types.ts';
import { type AccessLog, openAccessRecord } from './access-log.ts';
import { runBodyPhases } from './body-phases.ts';
import {
  applyLimits,
  CONNECTIONS_CHECKING_INTERVAL_MS,
  connectionAge,
  DEFAULT_LISTENER,
  hardenListener,
  watchBodySilence,
} from './client-connections.ts';
import { withoutCredentialParams } from './consumed-credentials.ts';
import { type ForwardRequest, forward } from './forward.ts';
import { setHeaderInList, setHeadersFromList, upstreamRequestHeaders } from './headers.ts';
import { modelAliasTap } from './model-alias-tap.ts';
import { type RoutedModel, serveOpenAIEndpoint } from './openai-endpoint.ts';
import { hasRequestBody } from './request-body.ts';
import { normalizePath, PathError, splitTarget, validAuthority, validHost } from './request-path.ts';
import { rewritePath } from './rewrite.ts';
import { collect, mirror, modifyHeaderList, sendRedirect } from './route-filters.ts';
import { RuntimeSnapshot } from './runtime-snapshot.ts';
import { openTrace, type Tracing } from './tracing/tracing.ts';
import type { UpstreamRegistry } from './upstream-registry.ts';
import { VersionNotices } from './version-notices.ts';

const MAX_REQUEST_ID_LENGTH = 200;

/** Serves traffic from the current snapshot; `apply` swaps snapshots atomically. */
export class DataPlane {
  readonly server: Server;
  #current: RuntimeSnapshot | undefined;
  #draining = false;
  #inflight = 0;
  #idleWaiters: (() => void)[] = [];
  /** The last Host value found valid: the same value on the next request needs no second look. */
  #lastValidHost = '';
  /** The HTTP/1.1 listeners the limits apply to. */
  readonly #listeners: Server[] = [];
  /** The client-connection limits in force. */
  #limits: ListenerSettings = DEFAULT_LISTENER;

  readonly registry: UpstreamRegistry;
  readonly metrics: GatewayMetrics;
  /** Rate-limit buckets; they outlive snapshots (keyed by policy and client). */
  readonly rateLimiter = new RateLimiter();
  /** Verification keys of JWT providers, cached across snapshots. */
  readonly jwks = new JwksCache();
  /** The docs plane's OpenID Connect sign-on (discovered provider configurations live across snapshots). */
  readonly signOn = new SignOnGate();
  /** Stored answers of cached model APIs (memory, or Redis through the shared store's connection). */
  readonly cache: ResponseCache;
  /** The version header and deprecation notices answers carry. */
  readonly #notices: VersionNotices;
  /** The HTTPS listener's port, when there is one (the plain listener's redirect points there). */
  httpsPort: number | undefined;
  /** Revisions of the published documents, for the changelog (set by the runtime that records them). */
  revisions: RevisionStore | undefined;
  /** Rate limits shared through Redis, when the ModelGateway configures it. */
  globalLimiter: GlobalRateLimiter | undefined;
  /** OpenTelemetry tracing, while the ModelGateway configures it (runtime/tracing-lifecycle.ts). */
  tracing: Tracing | undefined;
  /** The access log, when the runtime gives one (it writes only while the snapshot turns it on). */
  accessLog: AccessLog | undefined;
  /** Where published documents are merged and serialised (the document worker), when the runtime provides one. */
  documents: PublishRunner | undefined;

  constructor(registry: UpstreamRegistry, metrics: GatewayMetrics) {
    this.registry = registry;
    this.metrics = metrics;
    this.cache = new ResponseCache(() => metrics.cacheStoreErrors.inc());
    this.#notices = new VersionNotices(metrics);
    metrics.loadSource = () => this.#reportedLoads();
    this.server = createServer({ connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS }, (req, res) =>
      this.handle(req, res),
    );
    this.attach(this.server);
  }

  /**
   * Puts a listener under the gateway's client-connection limits (the plain one at construction, the HTTPS one when
   * it is created); every later snapshot's limits are applied to it.
   */
  attach(server: Server): void {
    hardenListener(server, this.#current?.snapshot.gateway.listener ?? DEFAULT_LISTENER);
    this.#listeners.push(server);
  }

  /** The snapshot being served, if any. */
  get current(): Snapshot | undefined {
    return this.#current?.snapshot;
  }

  /** How many endpoints of a served cluster pass their health checks, of how many (undefined: not served). */
  clusterHealth(name: string): { healthy: number; total: number } | undefined {
    const endpoints = this.#current?.clusters.get(name)?.endpoints;
    if (!endpoints) return undefined;
    let healthy = 0;
    for (const e of endpoints) if (e.ready && e.healthy) healthy++;
    return { healthy, total: endpoints.length };
  }

  /** The fresh figures InferenceAware clusters' endpoints reported (for modelgate_endpoint_load). */
  *#reportedLoads(): Iterable<EndpointLoadSample> {
    const now = Date.now();
    for (const [name, cluster] of this.#current?.clusters ?? []) {
      const staleMs = cluster.config.inference?.metrics?.staleMs;
      if (staleMs === undefined) continue;
      for (const e of cluster.endpoints) {
        const r = e.reported;
        if (r !== undefined && now - r.at <= staleMs) {
          yield { cluster: name, endpoint: e.origin, waiting: r.waiting, running: r.running, kvCache: r.kvCache };
        }
      }
    }
  }

  /** Whether a snapshot is being served and shutdown has not begun. */
  get ready(): boolean {
    return this.#current !== undefined && !this.#draining;
  }

  /** Makes `snapshot` current for new requests; requests in flight finish on the one they started with. */
  apply(snapshot: Snapshot): void {
    const previous = this.#current;
    this.registry.transport = snapshot.gateway.transport ?? 'native';
    const next = new RuntimeSnapshot(
      snapshot,
      this.registry,
      (api) => this.revisions?.history(api) ?? [],
      previous,
      this.documents,
    );
    this.#current = next;
    previous?.retire();
    const limits = snapshot.gateway.listener ?? DEFAULT_LISTENER;
    if (limits !== this.#limits) {
      this.#limits = limits;
      for (const server of this.#listeners) applyLimits(server, limits);
    }
  }

  /**
   * Builds what `apply` would build for `snapshot` and throws what that throws, without serving it (the runtime looks
   * for the resource to blame when a snapshot cannot be built). What it acquired is released at once.
   */
  trialBuild(snapshot: Snapshot): void {
    new RuntimeSnapshot(snapshot, this.registry, () => [], undefined, this.documents).retire();
  }

  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string, reusePort = false): Promise<number> {
    return listenOn(this.server, port, host, reusePort);
  }

  /**
   * Graceful shutdown: stop accepting, answer new requests on open connections with 503 + `Connection: close`,
   * let requests in flight finish (up to drainMs), then close every connection.
   */
  async shutdown(drainMs: number): Promise<void> {
    this.#draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.#inflight > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, drainMs).unref()),
      ]);
    }
    this.server.closeAllConnections();
    await closed;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    if (res.socket === null) {
      // A pipelined request: Node parsed it while the one before is still being answered. It is handled when its
      // turn to answer comes, so the upstream sees requests in the order the client sent them.
      res.once('socket', () => this.handle(req, res));
      return;
    }
    const started = performance.now();
    const limits = this.#limits;
    if (limits.maxConnectionDurationMs > 0 && connectionAge(req, started) > limits.maxConnectionDurationMs)
      res.shouldKeepAlive = false;
    const runtime = this.#current;
    const incomingId = req.headers['x-request-id'];
    const requestId =
      typeof incomingId === 'string' && incomingId.length > 0 && incomingId.length <= MAX_REQUEST_ID_LENGTH
        ? incomingId
        : randomUUID();
    const url = req.url ?? '/';
    const accessSettings = this.accessLog === undefined ? undefined : runtime?.snapshot.gateway.accessLog;
    const access = accessSettings
      ? openAccessRecord(this.accessLog!, accessSettings, req, res, started, requestId, url)
      : undefined;
    const trace = this.tracing === undefined ? undefined : openTrace(this.tracing, req, res, url);
    // The API the request was addressed to, once matched: a refusal is counted (and logged) under it.
    let api = '';
    const fail = (name: ErrorName, detail: string, extensions?: Record<string, unknown>) => {
      // A malformed request says nothing good about what follows it on the connection (nginx closes it too).
      if (this.#draining || name === 'malformedRequest') res.shouldKeepAlive = false;
      sendProblem(res, name, detail, { instance: url, requestId, ...(extensions ? { extensions } : {}) });
      if (access) access.error = name;
      if (trace) trace.error = name;
      this.metrics.observeRequest(api, '', res.statusCode, (performance.now() - started) / 1000);
    };
    if (this.#draining) {
      fail('shuttingDown', 'this replica is shutting down');
      return;
    }
    if (!runtime) {
      fail('upstreamUnavailable', 'the gateway has no valid configuration yet');
      return;
    }
    if (req.httpVersionMajor === 0) {
      res.shouldKeepAlive = false;
      fail('malformedRequest', 'HTTP/0.9 requests are not served');
      return;
    }
    // The request target: origin-form (`/path?query`) as almost every client sends it, else absolute-form.
    let target = url;
    let targetAuthority: string | undefined;
    if (target.charCodeAt(0) !== 47 /* / */) {
      const split = splitTarget(url);
      if (split?.authority === undefined || !validAuthority(split.authority)) {
        fail('malformedRequest', 'the request target must be an absolute path or an absolute URL');
        return;
      }
      targetAuthority = split.authority;
      target = split.hasQuery ? `${split.path}?${split.query}` : split.path;
    }
    const hash = target.indexOf('#');
    if (hash >= 0) target = target.slice(0, hash); // a fragment is never part of a request (RFC 9112 §3.2)
    const q = target.indexOf('?');
    const normalized = normalizePath(q < 0 ? target : target.slice(0, q), runtime.paths);
    if (normalized instanceof PathError) {
      fail('malformedRequest', normalized.reason);
      return;
    }
    const path = normalized;
    if (access) access.path = path;
    const query = q < 0 ? '' : target.slice(q + 1);
    // An empty query (`/x?`) is forwarded as no query, as nginx does.
    const hasQuery = query.length > 0;
    // Exactly one Host, and a valid one (RFC 9112 §3.2: 400 otherwise); HTTP/2 carries the host in :authority.
    const hostHeader = req.headers.host;
    if (hostHeader !== undefined) {
      if ((hostHeader !== this.#lastValidHost && !validHost(hostHeader)) || countHeader(req.rawHeaders, 'host') > 1) {
        fail('malformedRequest', 'the request must carry exactly one valid Host header');
        return;
      }
      this.#lastValidHost = hostHeader;
    }
    // Only `chunked` frames a request body here (Node's parser also takes `gzip, chunked`, whose body nothing could
    // read): another coding is 501, several Transfer-Encoding fields 400 — nginx's answers.
    const te = req.headers['transfer-encoding'];
    if (te !== undefined && req.httpVersionMinor === 0 && req.httpVersionMajor === 1) {
      // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing (nginx refuses it too).
      res.shouldKeepAlive = false;
      fail('malformedRequest', 'an HTTP/1.0 request cannot use Transfer-Encoding');
      return;
    }
    if (te !== undefined && te !== 'chunked' && te.toLowerCase() !== 'chunked') {
      res.shouldKeepAlive = false;
      if (countHeader(req.rawHeaders, 'transfer-encoding') > 1)
        fail('malformedRequest', 'the request has more than one Transfer-Encoding field');
      else fail('notImplemented', `the transfer coding ${JSON.stringify(te)} is not supported; send chunked`);
      return;
    }
    const authority = targetAuthority ?? hostHeader ?? (req.headers[':authority'] as string | undefined);
    const host = hostOf(authority);
    if (access) access.host = host;
    const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
    const tls = runtime.snapshot.gateway.tls;
    if (tls) {
      if (secure && tls.hsts) res.setHeader('strict-transport-security', tls.hsts);
      if (!secure && tls.redirectHTTP && this.httpsPort !== undefined) {
        const location = `https://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}${this.httpsPort === 443 ? '' : `:${this.httpsPort}`}${url}`;
        res.writeHead(308, { location, 'content-length': 0 });
        res.end();
        this.metrics.observeRequest('', '', 308, (performance.now() - started) / 1000);
        return;
      }
    }
    const headers = req.headers;
    const header = (name: string) => {
      const v = headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
    // The rest of the request's way, from matching on: run once, or again by the OpenAI endpoint with the path of
    // the ModelAPI serving the body's model and the body it read.
    const route = (path: string, body?: Buffer, routed?: RoutedModel): void => {
      const result = runtime.matcher.match({ host, path, method: req.method ?? 'GET', query, header });
      // The portal's paths are reserved against ModelAPIs (the compiler refuses overlaps), but an HTTPRoute a platform
      // team attached to a Gateway listener wins: on such a listener the portal moves with spec.docs.pathPrefix.
      if ((result === undefined || !result.rule.source.startsWith('HTTPRoute/')) && runtime.docs.handles(path, host)) {
        const serveDocs = () => {
          runtime.docs.serve(req, res, path, requestId);
          this.metrics.observeRequest('', '', res.statusCode, (performance.now() - started) / 1000);
        };
        const docsPlane = runtime.snapshot.docs;
        const docsAuth = docsPlane.auth;
        // The UI's own assets are the public npm bundles: nothing to protect, and pages load them without credentials.
        if (
          path.startsWith(`${docsPlane.pathPrefix}/docs-assets/`) ||
          (!docsAuth && !docsPlane.sso && !docsPlane.ssoUnavailable)
        ) {
          serveDocs();
          return;
        }
        if (docsPlane.ssoUnavailable && !docsAuth) {
          fail(
            'authUnavailable',
            'sign-on to the docs is configured but its client secret is missing (see the ModelGateway status)',
          );
          return;
        }
        const rejected = () => this.metrics.policyRejections.labels('', 'docs-auth').inc();
        if (docsPlane.sso) {
          // People sign on (a session cookie); machines may still bring the providers' credentials when both are set.
          const place = { signOn: docsPlane.sso, prefix: docsPlane.pathPrefix, publicURL: docsPlane.publicURL };
          this.signOn
            .check(place, req, res, path)
            .then(async (verdict) => {
              if (verdict.kind === 'pass') return serveDocs();
              if (verdict.kind === 'answered') return;
              const other = docsAuth ? await authenticate(req, query, docsAuth, this.jwks) : undefined;
              if (other?.ok && docsAuth && authorized(other, docsAuth, res, fail)) return serveDocs();
              rejected();
              await this.signOn.challenge(place, req, res, requestId);
            })
            // Never an unhandled rejection (it would end the process): whatever failed, this request gets a 500.
            .catch((err: unknown) => fail('internalError', `docs sign-on failed: ${(err as Error).message}`));
          return;
        }
        if (!docsAuth) {
          fail('internalError', 'docs authentication is configured inconsistently');
          return;
        }
        // Protected docs: the same providers as model calls (a browser brings a cookie for an external service, or
        // an API key in the query).
        const outcome = authenticate(req, query, docsAuth, this.jwks);
        const decide = (o: AuthOutcome) => {
          if (authorized(o, docsAuth, res, fail)) serveDocs();
          else rejected();
        };
        if (outcome instanceof Promise) void outcome.then(decide);
        else decide(outcome);
        return;
      }
      const openAI = runtime.snapshot.openAI;
      if (
        openAI !== undefined &&
        body === undefined &&
        path.startsWith(`${openAI.prefix}/`) &&
        (result === undefined || !result.rule.source.startsWith('HTTPRoute/'))
      ) {
        runtime.inflight++;
        this.#inflight++;
        serveOpenAIEndpoint({
          req,
          res,
          path,
          query,
          endpoint: openAI,
          routes: runtime.snapshot.routes,
          jwks: this.jwks,
          bodySilenceMs: this.#limits.requestBodyTimeoutMs,
          fail,
          continueAt: (next, read, routed) => route(next, read, routed),
          countFallback: (failed, model, cause) => this.metrics.modelFallbacks.labels(failed, model, cause).inc(),
          answered: (code) => this.metrics.observeRequest('', '', code, (performance.now() - started) / 1000),
        })
          .catch((err: unknown) => fail('internalError', `the OpenAI endpoint failed: ${(err as Error).message}`))
          .finally(() => this.#leave(runtime));
        return;
      }
      if (!result) {
        fail('routeNotFound', `no model API serves ${req.method} ${path}${host ? ` on host ${host}` : ''}`);
        return;
      }
      const { rule } = result;
      api = rule.labels.api;
      if (access) access.api = api;
      if (trace) trace.route(api, result.match.path.value, req.method ?? 'GET');
      const action = rule.action;
      if (action.type === 'Fail') {
        fail(action.error, action.detail);
        return;
      }
      if (action.type === 'Redirect') {
        sendRedirect(req, res, action, result.match.path, path, query);
        this.metrics.observeRequest(rule.labels.api, '', res.statusCode, (performance.now() - started) / 1000);
        return;
      }
      const ctx: PolicyContext = {
        req,
        res,
        started,
        requestId,
        fail,
        path,
        query,
        hasQuery,
        runtime,
        rule,
        action,
        result,
        header,
        identity: undefined,
        deferredHeaders: undefined,
        access,
        trace,
        body,
        modelAlias: routed?.alias,
        model: routed
          ? {
              id: routed.id,
              fallback: routed.fallback,
              ...(routed.contentType ? { contentType: routed.contentType } : {}),
            }
          : undefined,
      };
      const phases = runtime.phasesOf(action).request;
      if (phases.length === 0) this.#dispatch(ctx);
      else this.#runPhases(ctx, phases, 0);
    };
    route(path);
  }

  /**
   * Runs a rule's request phases (the declared table, policies/request-phases.ts) from `from` on, then dispatches.
   * A phase that must wait (an issuer's keys, Redis) resumes the rest when it settles.
   */
  #runPhases(ctx: PolicyContext, phases: readonly RequestPhase[], from: number): void {
    for (let i = from; i < phases.length; i++) {
      const phase = phases[i]!;
      const verdict = phase.run(ctx, this);
      if (typeof verdict === 'number') {
        if (verdict === NEXT) continue;
        this.#stopped(ctx, phase.name, verdict);
        return;
      }
      // Counted in flight while it waits, so a reload cannot release this snapshot's pools meanwhile.
      const runtime = ctx.runtime;
      runtime.inflight++;
      this.#inflight++;
      void verdict
        .then(
          (v) => {
            if (v !== NEXT) this.#stopped(ctx, phase.name, v);
            else if (!ctx.res.destroyed) this.#runPhases(ctx, phases, i + 1);
          },
          (err: Error) => ctx.fail('upstreamUnavailable', `a policy failed: ${err.message}`),
        )
        .finally(() => this.#leave(runtime));
      return;
    }
    this.#dispatch(ctx);
  }

  /** A phase answered the request: a refusal is counted under the phase's name. */
  #stopped(ctx: PolicyContext, phase: string, verdict: Verdict): void {
    if (ctx.access) ctx.access.policy = phase;
    if (verdict === REJECTED) this.metrics.policyRejections.labels(ctx.rule.labels.api, phase).inc();
  }

  /** A request that was counted in flight is over. */
  #leave(runtime: RuntimeSnapshot): void {
    runtime.exit();
    if (--this.#inflight === 0 && this.#idleWaiters.length > 0) {
      for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  /** After the policies: pick the version and the backend, apply filters, forward. */
  #dispatch(ctx: PolicyContext): void {
    const {
      req,
      res,
      started,
      requestId,
      path,
      query,
      hasQuery,
      runtime,
      rule,
      action,
      result,
      identity,
      access,
      trace,
    } = ctx;
    const deferred = ctx.deferredHeaders;
    const fail: PolicyContext['fail'] = deferred
      ? (name, detail, extensions) => {
          setHeadersFromList(res, deferred);
          ctx.fail(name, detail, extensions);
        }
      : ctx.fail;
    const headers = req.headers;
    let index = -1;
    const pinned = action.versionPin ? headers[action.versionPin.header] : undefined;
    if (typeof pinned === 'string' && action.versionPin) {
      index = action.versionPin.versions[pinned] ?? -1;
      if (index < 0) {
        const versions = Object.keys(action.versionPin.versions);
        fail('unknownVersion', `version ${JSON.stringify(pinned)} does not exist; valid: ${versions.join(', ')}`, {
          versions,
        });
        return;
      }
    } else {
      index = pickWeighted(action.backends);
      if (index < 0) {
        fail('upstreamUnavailable', 'every version of this model API has traffic weight 0; pin a version');
        return;
      }
    }
    const backend = action.backends[index]!;
    if (backend.invalid !== undefined) {
      // An unresolvable backendRef keeps its share of the traffic and says why (Gateway API: 500).
      fail('routeMisconfigured', backend.invalid);
      return;
    }
    if (backend.redirect) {
      if (deferred) setHeadersFromList(res, deferred);
      sendRedirect(req, res, backend.redirect, result.match.path, path, query);
      this.metrics.observeRequest(rule.labels.api, '', res.statusCode, (performance.now() - started) / 1000);
      return;
    }
    const noticeHeaders = this.#notices.headersFor(ctx, backend, fail);
    if (noticeHeaders === undefined) return;
    // Through the OpenAI endpoint the answer says which model served it (a fallback may have).
    const responseHeaders = ctx.model ? { ...noticeHeaders, 'x-modelgate-model': ctx.model.id } : noticeHeaders;
    if (ctx.model && access) access.model = ctx.model.id;
    const cluster = runtime.clusters.get(backend.cluster)!;
    // A credential in the query (an API key's `query` parameter) stays here, like the header form.
    const forwardedQuery =
      hasQuery && action.auth?.credentialQuery ? withoutCredentialParams(query, action.auth.credentialQuery) : query;
    const upstreamPath =
      cluster.config.basePath +
      rewritePath(backend.rewrite, result.match.path, path) +
      (forwardedQuery.length > 0 ? `?${forwardedQuery}` : '');
    const version = backend.version ?? '';
    const api = rule.labels.api;
    if (access) {
      access.version = version;
      if (identity) access.subject = identity.subject;
    }
    if (trace) trace.version = version;
    const filters = action.filters !== undefined || backend.filters !== undefined;
    const hostRewrite = filters ? collect(action.filters, backend.filters, 'hostRewrite').at(-1) : undefined;
    const upstreamHeaders = upstreamRequestHeaders(req, {
      host: hostRewrite ?? cluster.config.hostHeader ?? headers.host ?? (headers[':authority'] as string | undefined),
      clientAddress: req.socket.remoteAddress,
      proto: (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http',
      requestId,
    });
    // A form the OpenAI endpoint re-encoded (another model id) has a new multipart boundary.
    if (ctx.model?.contentType) setHeaderInList(upstreamHeaders, 'content-type', ctx.model.contentType);
    const subject = verifiedClientSubject(req, 'DistinguishedName');
    if (subject !== undefined) upstreamHeaders.push('x-modelgate-client-subject', subject);
    if (identity) {
      // The model learns who calls (and the claims it asked for); the credential itself never leaves the gateway.
      setIdentityHeaders(upstreamHeaders, identity);
    }
    let mirrorBody: ((body: Buffer) => void) | undefined;
    if (filters) {
      for (const m of collect(action.filters, backend.filters, 'requestHeaders')) modifyHeaderList(upstreamHeaders, m);
      const mirrors = collect(action.filters, backend.filters, 'mirrors').flat();
      if (mirrors.length > 0) {
        const targets = mirrors.flatMap((m) => {
          const c = runtime.clusters.get(m.cluster);
          return c ? [{ cluster: c, percent: m.percent }] : [];
        });
        const hasBody = hasRequestBody(req);
        // A copy of the headers: the request's own may still change (content-length of a rewritten body).
        const copy = upstreamHeaders.slice();
        const send = (body?: Buffer) => mirror(targets, req.method ?? 'GET', upstreamPath, copy, body);
        // A body is read first (within the body limit) so every copy gets the same bytes.
        if (hasBody) mirrorBody = send;
        else send();
      }
    }
    let answered: RouteStats | undefined;
    const forwarded: ForwardRequest = {
      req,
      res,
      cluster,
      method: req.method ?? 'GET',
      path: upstreamPath,
      headers: upstreamHeaders,
      timeouts: action.timeouts,
      retry: action.retry,
      maxBodyBytes: action.maxRequestBodyBytes,
      startedAt: started,
      ...(filters ? { responseModifiers: collect(action.filters, backend.filters, 'responseHeaders') } : {}),
      requestId,
      ...(deferred ? { extraHeaders: deferred } : {}),
      responseHeaders,
      ...(ctx.model?.fallback ? { fallback: ctx.model.fallback } : {}),
      onStatus: (code) => {
        const seconds = (performance.now() - started) / 1000;
        if (access) access.ttfbMs = seconds * 1000;
        answered = this.metrics.observeHead(api, version, code, seconds);
      },
      onUpstreamError: (kind) => {
        trace?.attemptFailed(kind);
        this.metrics.upstreamErrors.labels(api, version, kind).inc();
      },
      onRetry: () => {
        if (access) access.retries++;
        this.metrics.retries.labels(api, version).inc();
      },
      // Always present (undefined without the access log or tracing): one object shape for every forward.
      onAttempt:
        access || trace
          ? (origin: string) => {
              if (access) access.upstream = origin;
              trace?.attempt(origin, req.method ?? 'GET', upstreamHeaders);
            }
          : undefined,
      onAttemptStatus: trace?.recorded ? (status: number) => trace.attemptStatus(status) : undefined,
      onProblem:
        access || trace?.recorded
          ? (name: ErrorName) => {
              if (access) access.error = name;
              if (trace) trace.error = name;
            }
          : undefined,
      onDone: () => {
        // The whole exchange, to the last byte (a stream counts as long as it ran).
        answered?.end((performance.now() - started) / 1000);
        this.#leave(runtime);
      },
    };
    runtime.inflight++;
    this.#inflight++;
    const prefetched = ctx.body;
    if (prefetched === undefined && hasRequestBody(req)) watchBodySilence(req, res, this.#limits.requestBodyTimeoutMs);
    const bodyPhases = runtime.phasesOf(action).body;
    // A balancer that routes by the prompt (InferenceAware) needs the body whole before it picks an endpoint.
    const readForBalancer = prefetched === undefined && cluster.balancer.readsPrompt === true && hasRequestBody(req);
    if (bodyPhases.length > 0 || mirrorBody || readForBalancer) {
      // The body policies answer in several ways: the deferred headers go on the response now.
      if (deferred) setHeadersFromList(res, deferred);
      void runBodyPhases(
        ctx,
        bodyPhases,
        this,
        (phase, verdict) => this.#stopped(ctx, phase, verdict),
        { ...forwarded, extraHeaders: undefined },
        version,
        mirrorBody,
      );
      return;
    }
    if (prefetched !== undefined) {
      // Read before routing (the OpenAI endpoint): sent as it is, within this API's own body limit.
      if (prefetched.length > action.maxRequestBodyBytes) {
        fail('payloadTooLarge', `request body exceeds the limit of ${action.maxRequestBodyBytes} bytes`);
        forwarded.onDone();
        return;
      }
      setHeaderInList(forwarded.headers, 'content-length', String(prefetched.length));
      const alias = ctx.modelAlias;
      forward({
        ...forwarded,
        body: prefetched,
        ...(alias ? { tap: modelAliasTap(alias.upstream, alias.alias) } : {}),
      });
      return;
    }
    forward(forwarded);
  }
}

/** Lower-case host without port; IPv6 literals keep their brackets. */
export function hostOf(header: string | undefined): string {
  if (!header) return '';
  const h = header.toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/** Picks a backend index by weight; -1 when every weight is 0. */
export function pickWeighted(backends: readonly { weight: number }[], random: () => number = Math.random): number {
  if (backends.length === 1) return backends[0]!.weight > 0 ? 0 : -1;
  let total = 0;
  for (const b of backends) total += b.weight;
  if (total <= 0) return -1;
  let r = random() * total;
  for (let i = 0; i < backends.length; i++) {
    r -= backends[i]!.weight;
    if (r < 0) return i;
  }
  return backends.length - 1;
}

/** How many times a header occurs in a raw [name, value, …] list (Node keeps only the first Host it reads). */
function countHeader(raw: readonly string[], name: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const h = raw[i]!;
    if (h.length === name.length && h.toLowerCase() === name) n++;
  }
  return n;
}
