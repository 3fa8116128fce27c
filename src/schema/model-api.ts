/** The `ModelAPI` resource: one model API, its versions and how traffic reaches them. */
import { type Static, Type } from '@sinclair/typebox';
import {
  Condition,
  Duration,
  IntOrString,
  ObjectMeta,
  SecretRef,
  StringEnum,
  secret,
  TimerDuration,
} from './common.ts';
import { loadBalancerSchema } from './load-balancer.ts';

export const PROTOCOLS = ['open-inference-v2', 'kserve-v1', 'openai', 'openapi', 'mlrun'] as const;

/**
 * The endpoints a protocol's synthesized document may document beyond its mandatory ones, and those documented when
 * `spec.docs.endpoints` is not set: only what the server serves is documented (a server without embeddings must not
 * show `POST …/v1/embeddings`). The Open Inference Protocol's endpoints are all mandatory; `openapi` APIs document
 * themselves.
 */
export const OPTIONAL_ENDPOINTS: Readonly<Record<string, { all: readonly string[]; byDefault: readonly string[] }>> = {
  openai: {
    all: ['chat/completions', 'completions', 'embeddings', 'models'],
    byDefault: ['chat/completions', 'completions', 'models'],
  },
  'kserve-v1': { all: ['explain'], byDefault: [] },
};
/** The wire protocol a model server speaks; decides public paths, health checks and documentation. */
export type Protocol = (typeof PROTOCOLS)[number];

export const ServiceBackendRef = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Name of the Service.' }),
    namespace: Type.Optional(Type.String({ description: "Namespace of the Service; defaults to the ModelAPI's." })),
    port: IntOrString('Service port number or name.'),
  },
  { additionalProperties: false, description: 'A Kubernetes Service; endpoints come from its EndpointSlices.' },
);

export const Backend = Type.Object(
  {
    service: Type.Optional(ServiceBackendRef),
    url: Type.Optional(
      Type.String({
        pattern: '^https?://[^/?#]+(/[^?#]*)?$',
        description: 'A plain base URL (http or https); its path is prepended to upstream paths.',
        ...secret('url'),
      }),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          caSecret: Type.Optional(
            Type.Object(
              { name: Type.String({ minLength: 1 }), namespace: Type.Optional(Type.String()) },
              {
                additionalProperties: false,
                description:
                  'Secret with `ca.crt`: the CAs the backend certificate must chain to (default: the system CAs).',
              },
            ),
          ),
          serverName: Type.Optional(
            Type.String({ minLength: 1, description: 'SNI and the name verified (default: the host of the backend).' }),
          ),
          clientCertificate: Type.Optional(
            Type.Object(
              { name: Type.String({ minLength: 1 }), namespace: Type.Optional(Type.String()) },
              {
                additionalProperties: false,
                description: 'A `kubernetes.io/tls` Secret presented to the backend (mTLS).',
              },
            ),
          ),
        },
        {
          additionalProperties: false,
          description:
            'Talk to the backend over HTTPS (a Service backend then uses https:// to its endpoints); the certificate is always verified.',
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    description: 'Where a version is served: exactly one of `service` or `url`.',
    oneOf: [{ required: ['service'] }, { required: ['url'] }],
    'x-kubernetes-validations': [
      { rule: 'has(self.service) != has(self.url)', message: 'exactly one of service or url must be set' },
    ],
  },
);

/** Where an API description comes from, besides synthesis from protocol metadata. */
export const OpenAPISource = Type.Object(
  {
    inline: Type.Optional(
      Type.Unsafe<Record<string, unknown>>({
        type: 'object',
        'x-kubernetes-preserve-unknown-fields': true,
        description: 'The document itself (OpenAPI 3.0/3.1 or Swagger 2.0), with paths as the upstream serves them.',
      }),
    ),
    configMapRef: Type.Optional(
      Type.Object(
        {
          name: Type.String({ minLength: 1 }),
          key: Type.Optional(Type.String({ minLength: 1, description: 'Data key (default `openapi.json`).' })),
        },
        { additionalProperties: false, description: 'A ConfigMap in the same namespace holding the document.' },
      ),
    ),
    path: Type.Optional(
      Type.String({
        pattern: '^/',
        description:
          "Path of the upstream's own document on the version's backend, e.g. `/openapi.json` (FastAPI, vLLM), " +
          '`/docs.json` (BentoML), `/api-doc/openapi.json` (TGI), `/` with method OPTIONS (TorchServe).',
      }),
    ),
    url: Type.Optional(
      Type.String({
        pattern: '^https?://[^/?#]+(/[^?#]*)?$',
        description: 'Absolute URL of the document, for upstreams that publish it elsewhere.',
        ...secret('url'),
      }),
    ),
    method: Type.Optional(StringEnum(['GET', 'OPTIONS'], { description: 'HTTP method for `path`/`url` (GET).' })),
  },
  {
    additionalProperties: false,
    description:
      'Precedence: `inline` or `configMapRef`, then `path`/`url` (fetched), then protocol metadata, then the generic protocol document.',
  },
);

export const VersionDocs = Type.Object(
  {
    openAPI: Type.Optional(OpenAPISource),
    description: Type.Optional(Type.String({ description: 'Shown with this version in the portal.' })),
  },
  { additionalProperties: false, description: 'Per-version override of the API description source.' },
);

export const ApiDocs = Type.Object(
  {
    discover: Type.Optional(
      Type.Boolean({
        description:
          "Contact this API's own backends for protocol metadata (V2 `GET /v2/models/{m}`, OpenAI `GET /v1/models`) " +
          'and, for the `openapi` protocol, `GET /openapi.json` (else `/docs.json`, BentoML). Default false: nothing is probed unless asked. ' +
          'Setting `openAPI.path` or `openAPI.url` fetches that document regardless.',
      }),
    ),
    openAPI: Type.Optional(OpenAPISource),
    endpoints: Type.Optional(
      Type.Array(StringEnum(['chat/completions', 'completions', 'embeddings', 'models', 'explain']), {
        uniqueItems: true,
        description:
          'The optional endpoints this server serves, for a document the gateway synthesizes (an upstream document ' +
          'says so itself). OpenAI-compatible: `chat/completions`, `completions`, `embeddings`, `models` (default ' +
          'all but `embeddings`); KServe V1: `explain` (default none: only models with an explainer answer it).',
      }),
    ),
    refreshInterval: Type.Optional(TimerDuration('How often fetched documents are refreshed (default 5m).')),
    title: Type.Optional(Type.String({ description: 'Tag name shown in the portal (default: the ModelAPI name).' })),
    description: Type.Optional(Type.String({ description: 'Tag description (Markdown).' })),
    hidden: Type.Optional(Type.Boolean({ description: 'Leave this API out of the published documents.' })),
    breakingChanges: Type.Optional(
      StringEnum(['Allow', 'Refuse'], {
        description:
          'Refuse: a document with breaking changes under an existing version name is not published — the last accepted revision keeps serving and the `Compatible` condition says why, until the change comes as a new version or stops breaking. Allow (default): published, logged, and `Compatible=False`.',
      }),
    ),
  },
  { additionalProperties: false, description: 'How this API is documented.' },
);

export const ModelVersion = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$',
      description: 'Public version name, e.g. `v1`; reachable at `<pathPrefix>/versions/<name>`.',
    }),
    modelName: Type.Optional(
      Type.String({
        minLength: 1,
        description: "The model's name on the upstream server; defaults to the ModelAPI name.",
      }),
    ),
    modelVersion: Type.Optional(
      Type.String({ minLength: 1, description: 'Upstream model version (Open Inference Protocol `versions/{v}`).' }),
    ),
    weight: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1000000,
        description: 'Share of unpinned traffic. When no version sets a weight, the first version takes all traffic.',
      }),
    ),
    backend: Backend,
    requestHeaders: Type.Optional(
      Type.Object(
        {
          set: Type.Optional(
            Type.Record(
              Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }),
              Type.String({ pattern: '^[^\\r\\n]*$' }),
              {
                description: 'Headers set on every request to this version (e.g. Seldon Core v2’s `seldon-model`).',
              },
            ),
          ),
          secret: Type.Optional(
            SecretRef(
              'A Secret whose every entry is a header set on every request to this version (e.g. `authorization: Bearer …` for vLLM `--api-key` or a hosted endpoint): never shown in /config, logs, documents or errors; a changed Secret applies without a restart. The client’s own header of that name is not forwarded.',
            ),
          ),
        },
        { additionalProperties: false, description: 'Headers the gateway sets on requests to this version.' },
      ),
    ),
    loadBalancer: Type.Optional(
      loadBalancerSchema(
        'This version’s own load balancing, instead of the ModelAPI’s (e.g. InferenceAware for one LLM version).',
      ),
    ),
    docs: Type.Optional(VersionDocs),
    deprecated: Type.Optional(
      Type.Boolean({ description: 'Marks the version deprecated: its operations say so, the portal shows it.' }),
    ),
    sunset: Type.Optional(
      Type.String({
        pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?$',
        description: 'RFC 3339 date (or date-time) after which the version may be removed.',
      }),
    ),
    deprecatedAt: Type.Optional(
      Type.String({
        pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?$',
        description:
          'When the deprecation took (or takes) effect, for the `Deprecation` header (default: when this gateway first served the version as deprecated).',
      }),
    ),
    successor: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'The version consumers should move to (`Link: rel="successor-version"`).',
      }),
    ),
    afterSunset: Type.Optional(
      StringEnum(['Gone', 'Serve'], {
        description: 'After the sunset: answer 410 Gone naming the successor (default), or keep serving.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const Timeouts = Type.Object(
  {
    request: Type.Optional(
      TimerDuration('Whole-request deadline until the response headers arrive, retries included.'),
    ),
    backendRequest: Type.Optional(
      TimerDuration('Deadline for one upstream attempt until its response headers arrive.'),
    ),
    idle: Type.Optional(TimerDuration('Longest silence allowed between two body chunks of a streamed response.')),
    connect: Type.Optional(TimerDuration('TCP connect timeout to an endpoint.')),
  },
  { additionalProperties: false },
);

export const RETRY_ON = ['connect-failure', 'reset', 'gateway-error', '5xx', 'retriable-status'] as const;
export const Retries = Type.Object(
  {
    attempts: Type.Integer({ minimum: 0, maximum: 10, description: 'Extra attempts after the first one.' }),
    on: Type.Optional(
      Type.Array(StringEnum(RETRY_ON), {
        description: 'Failures that are retried (default connect-failure, reset, gateway-error).',
      }),
    ),
    statuses: Type.Optional(
      Type.Array(Type.Integer({ minimum: 400, maximum: 599 }), { description: 'For `retriable-status`.' }),
    ),
    nonIdempotent: Type.Optional(
      Type.Boolean({
        description: 'Also retry POST/PATCH (safe for stateless inference). Default: true for inference protocols.',
      }),
    ),
    backoff: Type.Optional(TimerDuration('Base backoff between attempts (jittered, doubled per attempt).')),
    budgetPercent: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100,
        description: 'Retries allowed as a percentage of active requests (default 20).',
      }),
    ),
  },
  { additionalProperties: false },
);

export const HealthCheck = Type.Object(
  {
    active: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ default: true })),
          path: Type.Optional(
            Type.String({ pattern: '^/', description: 'Probe path; defaults to the protocol ready path.' }),
          ),
          interval: Type.Optional(TimerDuration('Time between probes (default 5s).')),
          timeout: Type.Optional(TimerDuration('Probe timeout (default 1s).')),
          healthyThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          unhealthyThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
        },
        { additionalProperties: false },
      ),
    ),
    passive: Type.Optional(
      Type.Object(
        {
          consecutiveFailures: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Default 5.' })),
          ejectionTime: Type.Optional(
            TimerDuration('Base ejection time, multiplied by the number of ejections (default 10s).'),
          ),
          maxEjectionPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'Default 50.' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ModelAPISpec = Type.Object(
  {
    protocol: StringEnum(PROTOCOLS, { description: 'Protocol spoken by every version of this API.' }),
    pathPrefix: Type.Optional(
      Type.String({
        pattern: "^(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$",
        description: 'Public path prefix; defaults to `/models/<name>`.',
      }),
    ),
    hostnames: Type.Optional(
      Type.Array(
        Type.String({ pattern: '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' }),
        { maxItems: 16, description: 'Hostnames this API answers on (`*.example.com` allowed); empty means any host.' },
      ),
    ),
    versions: Type.Array(ModelVersion, { minItems: 1, maxItems: 64 }),
    gatewayRef: Type.Optional(
      Type.Object(
        {
          name: Type.String({ minLength: 1 }),
          namespace: Type.Optional(Type.String({ minLength: 1, description: "Default: the ModelAPI's namespace." })),
        },
        {
          additionalProperties: false,
          description:
            'The ModelGateway (the modelgate install, started with `--gateway NAMESPACE/NAME`) that serves this API, when a cluster has several; default: the default gateway (annotated `modelgate.dev/default-gateway: "true"`, or the only one).',
        },
      ),
    ),
    versionHeader: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9-]+$',
        description: 'Request header that pins a version (default `x-model-version`).',
      }),
    ),
    loadBalancer: Type.Optional(loadBalancerSchema('How requests are spread over a version’s endpoints.')),
    timeouts: Type.Optional(Timeouts),
    retries: Type.Optional(Retries),
    healthCheck: Type.Optional(HealthCheck),
    maxRequestBodyBytes: Type.Optional(Type.Integer({ minimum: 0, description: 'Largest accepted request body.' })),
    modelAliases: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 256, description: 'The public model id clients send.' }),
            model: Type.String({ minLength: 1, maxLength: 256, description: 'The upstream model id it stands for.' }),
          },
          { additionalProperties: false },
        ),
        {
          description:
            'OpenAI-compatible APIs: public model ids the gateway’s OpenAI endpoint routes here, each rewritten to the upstream id in the request body.',
        },
      ),
    ),
    modelFallbacks: Type.Optional(
      Type.Array(
        Type.Object(
          {
            model: Type.String({ minLength: 1, maxLength: 256, description: 'A model id or alias this API serves.' }),
            fallbacks: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
              minItems: 1,
              maxItems: 8,
              description:
                'Model ids (of any OpenAI-compatible ModelAPI) tried in order when this model’s answer would be a connect failure, a timeout, 429 or 5xx — only before anything was sent to the client.',
            }),
          },
          { additionalProperties: false },
        ),
        { description: 'OpenAI-compatible APIs: fallbacks of requests the gateway’s OpenAI endpoint routes here.' },
      ),
    ),
    docs: Type.Optional(ApiDocs),
    auth: Type.Optional(
      Type.Object(
        {
          providers: Type.Array(Type.String({ minLength: 1 }), {
            minItems: 1,
            description: 'ModelGateway auth providers; a request authenticated by any of them is let through.',
          }),
          allow: Type.Optional(
            Type.Object(
              {
                subjects: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
                groups: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'JWT `groups`.' })),
              },
              { additionalProperties: false, description: 'Only these identities may call the API (403 otherwise).' },
            ),
          ),
        },
        { additionalProperties: false, description: 'Require authentication (401 without, 403 when not allowed).' },
      ),
    ),
    ipAccess: Type.Optional(
      Type.Object(
        {
          allow: Type.Optional(
            Type.Array(Type.String({ pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$' }), {
              description: 'Only these client addresses or CIDR ranges may call (when set).',
            }),
          ),
          deny: Type.Optional(
            Type.Array(Type.String({ pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$' }), {
              description: 'These client addresses or ranges are refused (checked first).',
            }),
          ),
        },
        {
          additionalProperties: false,
          description: 'Client IP allow/deny lists, on the address of the connection (403 when refused).',
        },
      ),
    ),
    rateLimit: Type.Optional(
      Type.Object(
        {
          requests: Type.Integer({ minimum: 1, description: 'Requests allowed per `per` window (token refill rate).' }),
          per: Duration('The window, e.g. `1m`.'),
          burst: Type.Optional(
            Type.Integer({ minimum: 1, description: 'Bucket size: requests allowed at once (default `requests`).' }),
          ),
          scope: Type.Optional(
            StringEnum(['local', 'global'], {
              description:
                'local: per replica (default); global: shared by every replica through the ModelGateway Redis.',
            }),
          ),
          key: Type.Optional(
            StringEnum(['subject', 'clientIP', 'route'], {
              description:
                'Whose budget a request spends: the authenticated subject (default with auth), the client IP (default without), or one shared budget for the route.',
            }),
          ),
        },
        { additionalProperties: false, description: 'Token-bucket rate limit.' },
      ),
    ),
    tokenLimit: Type.Optional(
      Type.Object(
        {
          tokens: Type.Integer({
            minimum: 1,
            description: 'Model tokens (prompt + completion, as the model reports them) allowed per `per` window.',
          }),
          per: Duration('The window, e.g. `1h`.'),
          burst: Type.Optional(Type.Integer({ minimum: 1, description: 'Bucket size in tokens (default `tokens`).' })),
          scope: Type.Optional(
            StringEnum(['local', 'global'], { description: 'As in rateLimit: per replica or shared through Redis.' }),
          ),
          key: Type.Optional(
            StringEnum(['subject', 'clientIP', 'route'], { description: 'Whose budget the tokens come from.' }),
          ),
        },
        {
          additionalProperties: false,
          description:
            'OpenAI-compatible APIs: a token budget, spent by the usage each response reports (streamed ones too). A request is refused (429) while the budget is spent.',
        },
      ),
    ),
    cache: Type.Optional(
      Type.Object(
        {
          ttl: Type.Optional(TimerDuration('How long an answer is served from the cache (default 5m).')),
          maxEntryBytes: Type.Optional(
            Type.Integer({ minimum: 1, description: 'Larger answers are not cached (default 1 MiB).' }),
          ),
          varyHeaders: Type.Optional(
            Type.Array(Type.String({ pattern: '^[A-Za-z0-9-]+$' }), {
              description: 'Request headers that are part of the cache key (besides model, version, path and body).',
            }),
          ),
          store: Type.Optional(
            StringEnum(['auto', 'memory', 'redis'], {
              description:
                'auto (default): Redis when the ModelGateway configures it, else an in-memory LRU per replica.',
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            'Response cache for deterministic models: successful, non-streamed answers keyed by model, version, path and a canonical hash of the body. `Cache-Control: no-cache` bypasses it; identical concurrent requests share one upstream call.',
        },
      ),
    ),
    validation: Type.Optional(
      Type.Object(
        {
          mode: Type.Optional(
            StringEnum(['enforce', 'report'], {
              description: 'enforce (default): 400 before the model sees the request; report: log and count only.',
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            'Check request bodies and parameters against the published document (V2 tensors: datatype, shape and data length) before they reach the model; a 400 lists every violation with its JSON pointer.',
        },
      ),
    ),
    cors: Type.Optional(
      Type.Object(
        {
          allowOrigins: Type.Array(Type.String({ minLength: 1 }), {
            minItems: 1,
            description: 'Origins allowed to call from a browser (`*` for any; not with allowCredentials).',
          }),
          allowMethods: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z]+$' }))),
          allowHeaders: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9-]+$' }))),
          exposeHeaders: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9-]+$' }))),
          allowCredentials: Type.Optional(Type.Boolean()),
          maxAge: Type.Optional(Duration('How long browsers may cache a preflight answer (default 10m).')),
        },
        {
          additionalProperties: false,
          description: 'Cross-origin calls from browsers; preflights are answered by the gateway.',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Where a version's published description came from. */
export const DocsProvenance = Type.Object({
  source: StringEnum(['inline', 'configMap', 'upstream', 'metadata', 'generic']),
  location: Type.Optional(Type.String({ description: 'ConfigMap, URL or path the document or metadata came from.' })),
  fetchedAt: Type.Optional(Type.String()),
  etag: Type.Optional(Type.String()),
  sha256: Type.Optional(Type.String()),
  openapiVersion: Type.Optional(Type.String({ description: 'Version of the source document before normalisation.' })),
});

export const ModelAPIStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer()),
  url: Type.Optional(Type.String()),
  gateway: Type.Optional(
    Type.String({ description: 'The ModelGateway (`namespace/name`) whose install serves this API.' }),
  ),
  conditions: Type.Optional(Type.Array(Condition)),
  versions: Type.Optional(
    Type.Array(
      Type.Object({
        name: Type.String(),
        url: Type.String(),
        weight: Type.Integer(),
        endpoints: Type.Integer(),
        docs: Type.Optional(DocsProvenance),
      }),
    ),
  ),
  docs: Type.Optional(
    Type.Object(
      {
        url: Type.String({ description: 'Where the published document of this API is served.' }),
        conflicts: Type.Optional(Type.Array(Type.String())),
        renames: Type.Optional(Type.Array(Type.String())),
      },
      { description: 'Merge report: operations left out because another API documents them, renamed ids.' },
    ),
  ),
});

export const ModelAPI = Type.Object({
  apiVersion: Type.Literal('modelgate.dev/v1alpha1'),
  kind: Type.Literal('ModelAPI'),
  metadata: ObjectMeta,
  spec: ModelAPISpec,
  status: Type.Optional(ModelAPIStatus),
});

/** A ModelAPI resource as read from a source. */
export type ModelAPI = Static<typeof ModelAPI>;
export type ModelAPISpec = Static<typeof ModelAPISpec>;
export type ModelVersion = Static<typeof ModelVersion>;
export type Backend = Static<typeof Backend>;
export type Retries = Static<typeof Retries>;
export type Timeouts = Static<typeof Timeouts>;
export type HealthCheck = Static<typeof HealthCheck>;
export type ApiDocs = Static<typeof ApiDocs>;
export type OpenAPISource = Static<typeof OpenAPISource>;
export type DocsProvenance = Static<typeof DocsProvenance>;
