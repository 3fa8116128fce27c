/**
 * The compiled, immutable configuration the data plane serves. Plain data only (no functions, no sockets), so it is
 * golden-testable and can be printed at /config. The shapes follow Gateway API HTTPRoute semantics (matches, weighted
 * backends, per-backend filters, timeouts) so that ModelAPIs and, later, HTTPRoutes compile into the same table.
 */

import type { MergePart } from '../openapi/merge.ts';
import type { Protocol } from '../schema/model-api.ts';
import type { ACCESS_LOG_FIELDS } from '../schema/model-gateway.ts';
import type { DocsTask } from './discovery.ts';

/** How a path is matched, as in Gateway API `HTTPPathMatch`. */
export interface PathMatch {
  readonly type: 'Exact' | 'PathPrefix' | 'RegularExpression';
  readonly value: string;
}

/** A header or query parameter match. */
export interface ValueMatch {
  readonly type: 'Exact' | 'RegularExpression';
  readonly name: string;
  readonly value: string;
}

/** One way a request can match a rule; all present conditions must hold. */
export interface RouteMatch {
  readonly path: PathMatch;
  readonly method?: string;
  readonly headers?: readonly ValueMatch[];
  readonly queryParams?: readonly ValueMatch[];
}

/** Path rewrite applied before forwarding, as in Gateway API `HTTPURLRewriteFilter`. */
export type PathRewrite =
  | { readonly type: 'ReplacePrefixMatch'; readonly replacePrefixMatch: string }
  | { readonly type: 'ReplaceFullPath'; readonly replaceFullPath: string };

/** Header changes, as Gateway API's HTTPHeaderFilter: names lower-case, applied in the order remove, set, add. */
export interface HeaderModifier {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

/** Request/response filters of a rule or of one backend (HTTPRoute filters). */
export interface RouteFilters {
  readonly requestHeaders?: HeaderModifier;
  readonly responseHeaders?: HeaderModifier;
  /** URLRewrite hostname: the Host header sent upstream. */
  readonly hostRewrite?: string;
  /** RequestMirror: copies of the request sent to these clusters, their answers ignored. */
  readonly mirrors?: readonly { readonly cluster: string; readonly percent: number }[];
}

/** One weighted destination of a rule. */
export interface RouteBackend {
  /** Key into Snapshot.clusters. */
  readonly cluster: string;
  readonly weight: number;
  /** The ModelAPI version this backend serves, if any; named in the response header. */
  readonly version?: string;
  readonly rewrite?: PathRewrite;
  /** Filters of this backend only (they follow the rule's). */
  readonly filters?: RouteFilters;
  /** Set when the reference cannot be resolved: its share of the traffic gets a 500 saying why. */
  readonly invalid?: string;
  /** A backend-level RequestRedirect: its share of the traffic is redirected instead of forwarded. */
  readonly redirect?: RedirectAction;
  /** Set when the version is deprecated: the headers its answers carry, and what happens after the sunset. */
  readonly deprecation?: VersionDeprecation;
}

/** A deprecated version as the data plane announces it (RFC 9745 Deprecation, RFC 8594 Sunset, RFC 8288 Link). */
export interface VersionDeprecation {
  /** Epoch seconds of the deprecation; absent: the gateway uses when it first served the version as deprecated. */
  readonly at?: number;
  /** Epoch ms of the sunset. */
  readonly sunsetMs?: number;
  readonly successor?: { readonly version: string; readonly url: string };
  /** Where consumers read about it (the API's changelog page). */
  readonly link: string;
  /** After the sunset: 410 Gone, or keep serving. */
  readonly afterSunset: 'Gone' | 'Serve';
}

/** Gateway API RequestRedirect: unset parts keep the request's (port: see the data plane). */
export interface RedirectAction {
  readonly type: 'Redirect';
  readonly scheme?: string;
  readonly hostname?: string;
  readonly port?: number;
  readonly path?: PathRewrite;
  readonly statusCode: number;
  readonly responseHeaders?: HeaderModifier;
}

/** Timeouts in milliseconds; 0 means none. */
export interface RouteTimeouts {
  readonly requestMs: number;
  readonly backendRequestMs: number;
  readonly idleMs: number;
}

/** Retry policy of a rule. */
export interface RetryPolicy {
  readonly attempts: number;
  readonly on: readonly string[];
  readonly statuses: readonly number[];
  readonly nonIdempotent: boolean;
  readonly backoffMs: number;
  readonly budgetPercent: number;
}

/** Whom an API key identifies, with the metadata its Secret gives it. */
export interface ApiKeyIdentity {
  readonly subject: string;
  readonly groups?: readonly string[];
  /** Forwarded to the model as headers ([lower-case name, value]). */
  readonly headers?: readonly (readonly [string, string])[];
}

/** An API-key provider: keys by their sha256 (hex), never the keys themselves. */
export interface ApiKeyProvider {
  readonly kind: 'apiKey';
  readonly name: string;
  /** Lower-case header carrying the key. */
  readonly header: string;
  readonly query?: string;
  /** sha256 hex of a key → whom it identifies. */
  readonly keys: Readonly<Record<string, ApiKeyIdentity>>;
}

/** A JWT provider (bearer tokens). */
export interface JwtProvider {
  readonly kind: 'jwt';
  readonly name: string;
  readonly issuer?: string;
  readonly audiences?: readonly string[];
  readonly jwksURL?: string;
  readonly jwks?: { readonly keys: readonly Record<string, unknown>[] };
  readonly requiredClaims: Readonly<Record<string, string>>;
  /** Claim → lower-case header name. */
  readonly forwardClaims: Readonly<Record<string, string>>;
  readonly clockSkewSeconds: number;
}

/** An external auth service (nginx auth_request / oauth2-proxy pattern). */
export interface ExternalAuthProvider {
  readonly kind: 'external';
  readonly name: string;
  readonly url: string;
  readonly forwardHeaders: readonly string[];
  readonly copyHeaders: readonly string[];
  readonly subjectHeader: string;
  readonly timeoutMs: number;
  readonly failOpen: boolean;
}

/** Clients authenticated by the certificate the TLS listener verified. */
export interface ClientCertificateProvider {
  readonly kind: 'clientCertificate';
  readonly name: string;
  readonly subject: 'CommonName' | 'DistinguishedName';
}

/** Authentication of a rule. */
export interface AuthPolicy {
  readonly providers: readonly (ApiKeyProvider | JwtProvider | ExternalAuthProvider | ClientCertificateProvider)[];
  /** Query parameters that may carry a credential (API keys' `query`): never forwarded upstream. */
  readonly credentialQuery?: readonly string[];
  /** When set, only these subjects are allowed (403 otherwise). */
  readonly allowSubjects?: readonly string[];
  /** When set, only members of these groups (JWT `groups`) are allowed. */
  readonly allowGroups?: readonly string[];
}

/** A token-bucket rate limit of a rule (per replica). */
export interface RateLimitPolicy {
  /** Identity of the policy's buckets across snapshots: the ModelAPI and its settings. */
  readonly id: string;
  readonly requests: number;
  readonly windowMs: number;
  readonly burst: number;
  readonly key: 'subject' | 'clientIP' | 'route';
  /** global: shared by every replica through Redis. */
  readonly scope: 'local' | 'global';
}

/** CORS of a rule. */
export interface CorsPolicy {
  readonly allowOrigins: readonly string[];
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly allowCredentials: boolean;
  readonly maxAgeSeconds: number;
}

/** Response cache of a rule (opt-in per ModelAPI). */
export interface CachePolicy {
  /** The ModelAPI (`namespace/name`): part of every key, so APIs never share entries. */
  readonly id: string;
  readonly ttlMs: number;
  readonly maxEntryBytes: number;
  /** Lower-case request headers whose values are part of the key. */
  readonly varyHeaders: readonly string[];
  /** redis: shared by every replica (the ModelGateway's Redis); memory: an LRU per replica. */
  readonly store: 'memory' | 'redis';
}

/** Request validation of a rule against the published document of the version that serves it. */
export interface ValidationPolicy {
  /** `ModelAPI/<namespace>/<name>`: where the docs plane keeps the version documents. */
  readonly ref: string;
  readonly mode: 'enforce' | 'report';
  readonly protocol: Protocol;
}

/** What a matched request gets. */
export type RouteAction =
  | {
      readonly type: 'Forward';
      readonly backends: readonly RouteBackend[];
      /** Header that pins a version, and the backend index per version name. */
      readonly versionPin?: { readonly header: string; readonly versions: Readonly<Record<string, number>> };
      readonly timeouts: RouteTimeouts;
      readonly retry: RetryPolicy;
      readonly maxRequestBodyBytes: number;
      /** Filters of the rule, applied to every backend. */
      readonly filters?: RouteFilters;
      readonly auth?: AuthPolicy;
      readonly cors?: CorsPolicy;
      readonly rateLimit?: RateLimitPolicy;
      /** Client address lists (addresses or CIDR ranges). */
      readonly ipAccess?: { readonly allow?: readonly string[]; readonly deny?: readonly string[] };
      /** The answers report token usage (OpenAI-compatible APIs): metered for metrics, logs and traces. */
      readonly meterTokens?: boolean;
      /** Token budget of an OpenAI-compatible API: `requests` counts model tokens. */
      readonly tokenLimit?: RateLimitPolicy;
      readonly cache?: CachePolicy;
      readonly validation?: ValidationPolicy;
    }
  | RedirectAction
  | { readonly type: 'Fail'; readonly error: 'routeMisconfigured'; readonly detail: string };

/** One compiled routing rule. Rules are ordered by precedence within the snapshot. */
export interface RouteRule {
  /** Stable, human-readable id, e.g. `ModelAPI/default/iris#versions/v1`. */
  readonly id: string;
  /** `Kind/namespace/name` of the resource this rule came from (metrics and status). */
  readonly source: string;
  /** Empty means any host. Entries are lower-case; `*.example.com` matches one or more labels. */
  readonly hostnames: readonly string[];
  /** Hostname of the Gateway listener the rule is attached to; absent for the listener without one (and ModelAPIs). */
  readonly listener?: string;
  readonly matches: readonly RouteMatch[];
  readonly action: RouteAction;
  /** Labels for metrics and logs. */
  readonly labels: { readonly api: string; readonly version: string };
}

/** One endpoint of a cluster. */
export interface ClusterEndpoint {
  /** `http://10.0.0.1:8080` — the origin the connection pool is opened to. */
  readonly origin: string;
  /** False for EndpointSlice endpoints that Kubernetes reports not ready (kept for status, never picked). */
  readonly ready: boolean;
}

/** Active health check settings, in milliseconds. */
export interface ActiveHealthCheck {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

/** Passive outlier ejection settings. */
export interface PassiveHealthCheck {
  readonly consecutiveFailures: number;
  readonly ejectionTimeMs: number;
  readonly maxEjectionPercent: number;
}

/** Reading an endpoint's load from its Prometheus metrics (inference-aware balancing). */
export interface EndpointMetricsScrape {
  readonly path: string;
  /** Another port than the serving one (Triton's 8002). */
  readonly port?: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Older metrics are not used; the endpoint's in-flight count stands in. */
  readonly staleMs: number;
  readonly maxBytes: number;
  /** Metric families, first present wins. */
  readonly waiting: readonly string[];
  readonly running: readonly string[];
  readonly kvCache: readonly string[];
}

/** The InferenceAware policy's settings. */
export interface InferenceBalancingConfig {
  readonly metrics?: EndpointMetricsScrape;
  readonly weights: {
    readonly queue: number;
    readonly kvCache: number;
    readonly inflight: number;
    readonly prefix: number;
  };
  readonly prefix: {
    readonly blockSize: number;
    readonly maxBlocks: number;
    readonly capacity: number;
    readonly loadBound: number;
  };
}

/** How the gateway speaks TLS to a cluster's endpoints (PEM material from Secrets). */
export interface UpstreamTls {
  readonly caPem?: string;
  readonly serverName?: string;
  readonly certPem?: string;
  readonly keyPem?: string;
}

/** A set of interchangeable endpoints for one model version. */
export interface Cluster {
  /** Set for HTTPS endpoints with settings of their own (custom CA, SNI name, client certificate). */
  readonly tls?: UpstreamTls;
  readonly name: string;
  readonly protocol: Protocol;
  /** Path prefix of a URL backend, prepended to every upstream path ('' for none). */
  readonly basePath: string;
  /** Host header to send (URL backends keep their own host name); undefined passes the client's Host. */
  readonly hostHeader?: string;
  /**
   * The version's own request headers (`requestHeaders`: set, and its Secret's entries), lower-case names. The data
   * plane sets them through the route's filter; the active health check and the docs fetcher send them too, since they
   * ask the same server, which may route or authenticate by them (Seldon's `seldon-model`, TorchServe's token).
   */
  readonly requestHeaders?: readonly (readonly [string, string])[];
  readonly endpoints: readonly ClusterEndpoint[];
  readonly loadBalancer: 'RoundRobin' | 'LeastRequest' | 'InferenceAware';
  /** Settings of the InferenceAware policy (defaults resolved), only with it. */
  readonly inference?: InferenceBalancingConfig;
  readonly connectTimeoutMs: number;
  readonly activeHealthCheck?: ActiveHealthCheck;
  readonly passiveHealthCheck: PassiveHealthCheck;
}

/** What the docs plane and the landing page need to know about a served ModelAPI. */
export interface ApiSummary {
  readonly ref: string;
  readonly name: string;
  readonly namespace: string;
  readonly protocol: Protocol;
  readonly pathPrefix: string;
  readonly hostnames: readonly string[];
  readonly versions: readonly {
    readonly name: string;
    readonly weight: number;
    readonly path: string;
    readonly cluster: string;
    readonly modelName: string;
  }[];
}

/** A certificate and its key, as read from a Secret (PEM). */
export interface TlsCertificate {
  /** `Secret/<namespace>/<name>`. */
  readonly source: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** DNS names of the certificate (SAN, else CN), lower-case; SNI picks by them. */
  readonly names: readonly string[];
  /** Epoch ms of the end of validity. */
  readonly notAfterMs: number;
  readonly notBeforeMs: number;
}

/** TLS settings of the HTTPS listener. */
export interface TlsSettings {
  /** The usable certificates (the first is the default); unusable ones are in the ModelGateway's status. */
  readonly certificates: readonly TlsCertificate[];
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly http2: boolean;
  readonly clientAuth?: { readonly mode: 'Require' | 'Optional'; readonly caPem: string };
  /** The Strict-Transport-Security value, when configured. */
  readonly hsts?: string;
  readonly redirectHTTP: boolean;
}

/** The shared Redis store, its credentials resolved from their Secrets. */
export interface RedisSettings {
  /** Without credentials (those are refused in the URL). */
  readonly url: string;
  readonly timeoutMs: number;
  readonly failOpen: boolean;
  /** From the `auth` Secret; `source` names it (for /config, which never shows the values). */
  readonly auth?: { readonly source: string; readonly username?: string; readonly password: string };
  readonly tls?: { readonly caPem?: string; readonly caSource?: string; readonly serverName?: string };
}

/** Gateway-wide settings. */
export interface GatewaySettings {
  /** The shared store, when configured. */
  readonly redis?: RedisSettings;
  /** TLS termination of the HTTPS listener, when configured. */
  readonly tls?: TlsSettings;
  readonly publicURL: string;
  readonly title: string;
  readonly description: string;
  readonly drainTimeoutMs: number;
  /** Limits on client connections (ModelGateway spec.listener), resolved with their defaults; 0 = no limit. */
  readonly listener: ListenerSettings;
  /** How request paths are normalised. */
  readonly paths: { readonly escapedSlashes: 'Decode' | 'Keep' | 'Reject'; readonly mergeSlashes: boolean };
  /** The upstream HTTP/1.1 client. */
  readonly transport: 'native' | 'undici';
  /** The access log, when on. */
  readonly accessLog?: AccessLogSettings;
  /** OpenTelemetry tracing, when configured. */
  readonly tracing?: TracingSettings;
}

/** Where and how spans are exported. */
export interface TracingSettings {
  readonly otlpEndpoint: string;
  readonly samplingRatio: number;
  readonly serviceName: string;
  /** OTLP/HTTP encoding of the exports. */
  readonly protocol: 'http/protobuf' | 'http/json';
  /** Export headers from the named Secret (their values are secrets). */
  readonly headers: Readonly<Record<string, string>>;
}

/** Which requests the access log writes, and which fields. */
export interface AccessLogSettings {
  readonly fields: readonly AccessLogField[];
  /** 0..1; answers ≥ 500 are always written. */
  readonly sampleRatio: number;
  /** With a filter, a request is written when it matches any condition set. */
  readonly minStatus?: number;
  readonly slowerThanMs?: number;
}

export type AccessLogField = (typeof ACCESS_LOG_FIELDS)[number];

/** Client connection limits, in ms (0 = no limit). */
export interface ListenerSettings {
  readonly requestHeadersTimeoutMs: number;
  readonly requestBodyTimeoutMs: number;
  readonly requestReceiveTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxConnectionDurationMs: number;
  readonly maxRequestsPerConnection: number;
}

/** One ModelAPI as published by the docs plane. */
export interface PublishedApi {
  readonly ref: string;
  readonly namespace: string;
  readonly name: string;
  readonly title: string;
  /** Its tag in the merged document. */
  readonly tag: string;
  readonly protocol: Protocol;
  readonly pathPrefix: string;
  /** Left out of the merged document (its own documents are still served). */
  readonly hidden: boolean;
  /** Markdown description of the API (its own document's `info.description`). */
  readonly description: string;
  /** The upstream document's own `info` (title, version, summary, description), when it wrote one. */
  readonly upstreamInfo?: Readonly<Record<string, unknown>>;
  readonly documented: { readonly status: string; readonly reason: string; readonly message: string };
  readonly versions: readonly {
    readonly name: string;
    readonly weight: number;
    readonly path: string;
    readonly cluster: string;
    /** inline, configMap, upstream, metadata or generic. */
    readonly source: string;
    readonly deprecated: boolean;
    readonly sunset?: string;
    /** The version consumers should move to. */
    readonly successor?: string;
    /** `breakingChanges: Refuse` APIs: the source the published document was rendered from (kept to hold it). */
    readonly origin?: unknown;
    /** Set while a breaking document is held back: what would have been published instead. */
    readonly candidate?: Readonly<Record<string, unknown>>;
    /** The version's own paths (`<prefix>/versions/<v>`), rendered, ready to merge. */
    readonly part: MergePart;
  }[];
  /** The parts of the API's own document: the unversioned paths, then every version's when there are several. */
  readonly parts: readonly MergePart[];
}

/** OpenID Connect sign-on of the docs plane (ModelGateway `spec.docs.auth.oidc`). */
export interface DocsSignOn {
  readonly issuer: string;
  readonly clientId: string;
  /** From the Secret `secretSource` names; also the root of the session cookie's key. Never shown. */
  readonly clientSecret: string;
  readonly secretSource: string;
  readonly scopes: readonly string[];
  readonly groupsClaim: string;
  /** Claims a user must carry: one of the values each. */
  readonly requiredClaims: Readonly<Record<string, readonly string[]>>;
  readonly allowSubjects?: readonly string[];
  readonly allowGroups?: readonly string[];
  readonly sessionMaxAgeMs: number;
}

/** What the docs plane serves, and what the spec fetcher must do. */
export interface DocsPlane {
  /** Path prefix of the portal and documents ('' = at the root). */
  readonly pathPrefix: string;
  /** Whether the landing page also answers at the prefix itself (`/`); it is always at `<prefix>/portal`. */
  readonly rootLanding: boolean;
  /** The gateway's authentication providers as OpenAPI security schemes. */
  readonly securitySchemes?: Readonly<Record<string, unknown>>;
  /** When set, the portal and the documents require authentication too. */
  readonly auth?: AuthPolicy;
  /** OpenID Connect sign-on for the portal and the documents (people in browsers), when configured. */
  readonly sso?: DocsSignOn;
  /** Sign-on is configured but cannot work (its Secret is missing): the docs answer 503, they do not open up. */
  readonly ssoUnavailable?: boolean;
  readonly title: string;
  readonly description: string;
  readonly contact?: Readonly<Record<string, unknown>>;
  /** The gateway's public URL ("Try it out" calls go there). */
  readonly publicURL: string;
  /** Fetches and conversions the spec fetcher carries out. */
  readonly tasks: readonly DocsTask[];
  readonly apis: readonly PublishedApi[];
  /** Documented Services behind HTTPRoutes, under the routes' public paths (merged document only). */
  readonly routeParts: readonly MergePart[];
}

/** The immutable snapshot. */
export interface Snapshot {
  readonly gateway: GatewaySettings;
  readonly routes: readonly RouteRule[];
  /**
   * Hostnames of Gateway listeners. A request whose host falls under one of them is matched only against the rules of
   * that most specific listener hostname (listener isolation): it never falls through to a broader one.
   */
  readonly listenerHosts: readonly string[];
  readonly clusters: Readonly<Record<string, Cluster>>;
  readonly apis: readonly ApiSummary[];
  readonly docs: DocsPlane;
  /** The gateway's one OpenAI-compatible endpoint, when on and some OpenAI-compatible ModelAPI is served. */
  readonly openAI?: OpenAIEndpoint;
}

/** Where a model id of the OpenAI endpoint goes. */
export interface ModelTarget {
  /** The ModelAPI (`ModelAPI/<ns>/<name>`). */
  readonly ref: string;
  /** `<namespace>/<name>`, the `owned_by` of the model list. */
  readonly ownedBy: string;
  /** The public path prefix the request continues under: the API's, or one version's when only it serves the model. */
  readonly prefix: string;
  /** The upstream id, when the public id is an alias (the body's `model` is rewritten to it). */
  readonly upstreamModel?: string;
  /** Model ids tried in order when this one fails before its answer started (connect, timeout, 429, 5xx). */
  readonly fallbacks?: readonly string[];
}

/** The gateway's one OpenAI-compatible endpoint (ModelGateway `spec.openAIEndpoint`). */
export interface OpenAIEndpoint {
  /** Path prefix, e.g. `/v1`. */
  readonly prefix: string;
  readonly models: Readonly<Record<string, ModelTarget>>;
  /** Largest body read to find the model: the largest any OpenAI-compatible ModelAPI accepts. */
  readonly maxBodyBytes: number;
}
