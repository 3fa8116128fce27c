/** The `ModelGateway` resource: gateway-wide settings shared by every ModelAPI. */
import { type Static, Type } from '@sinclair/typebox';
import { Condition, Duration, ObjectMeta, SecretRef, StringEnum, secret, TimerDuration } from './common.ts';
import { HealthCheck, Retries, Timeouts } from './model-api.ts';

/** What an access-log line can hold (docs: README, "Access log"). */
export const ACCESS_LOG_FIELDS = [
  'time',
  'requestId',
  'client',
  'method',
  'host',
  'path',
  'api',
  'version',
  'upstream',
  'status',
  'bytesIn',
  'bytesOut',
  'durationMs',
  'ttfbMs',
  'policy',
  'error',
  'subject',
  'retries',
  'cache',
  'tokens',
  'model',
] as const;

export const ModelGatewaySpec = Type.Object(
  {
    publicURL: Type.Optional(
      Type.String({ pattern: '^https?://', description: 'Base URL consumers use; shown in status and documents.' }),
    ),
    openAIEndpoint: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ description: 'Serve the endpoint (default true).' })),
          path: Type.Optional(
            Type.String({
              pattern: "^(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$",
              description: 'Where it is served (default `/v1`); its paths are reserved against ModelAPIs.',
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            'One OpenAI-compatible endpoint for every OpenAI-compatible ModelAPI: `POST <path>/chat/completions` (and completions, embeddings, responses, audio/speech) goes to the ModelAPI serving the body’s `model`, with that ModelAPI’s policies; `GET <path>/models` lists the models the caller may use.',
        },
      ),
    ),
    docs: Type.Optional(
      Type.Object(
        {
          title: Type.Optional(Type.String({ description: 'Title of the merged document and the portal.' })),
          description: Type.Optional(Type.String({ description: 'Markdown shown at the top of the documents.' })),
          pathPrefix: Type.Optional(
            Type.String({
              pattern: "^(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$",
              description:
                'Serve the portal and documents under this prefix (`/portal/docs`, `/portal/openapi.json` …); default: the root.',
            }),
          ),
          contact: Type.Optional(
            Type.Object(
              {
                name: Type.Optional(Type.String()),
                url: Type.Optional(Type.String()),
                email: Type.Optional(Type.String()),
              },
              { additionalProperties: false },
            ),
          ),
          auth: Type.Optional(
            Type.Object(
              {
                providers: Type.Optional(
                  Type.Array(Type.String({ minLength: 1 }), {
                    minItems: 1,
                    description: 'Auth providers (below) of which one must accept the caller of a docs page.',
                  }),
                ),
                oidc: Type.Optional(
                  Type.Object(
                    {
                      issuer: Type.String({
                        pattern: '^https?://[^/?#]+(/[^?#]*)?$',
                        description:
                          'The OpenID provider (its `/.well-known/openid-configuration` is read). `http://` only for a provider on loopback or in the cluster.',
                      }),
                      clientID: Type.String({ minLength: 1, description: "The portal's client id at the provider." }),
                      clientSecret: SecretRef(
                        'A Secret with `client-secret`: the client secret (confidential client, authorization code + PKCE). The session cookie is encrypted with a key derived from it, so every replica reads every session.',
                      ),
                      scopes: Type.Optional(
                        Type.Array(Type.String({ minLength: 1 }), {
                          description:
                            'Scopes asked for (default `openid profile email`; add `offline_access` for refresh tokens, `groups` where the provider needs it).',
                        }),
                      ),
                      groupsClaim: Type.Optional(
                        Type.String({
                          minLength: 1,
                          description: 'The claim listing the user’s groups, for `allow.groups` (default `groups`).',
                        }),
                      ),
                      claims: Type.Optional(
                        Type.Record(Type.String({ minLength: 1 }), Type.Array(Type.String()), {
                          description:
                            'Claims a user must carry: each listed claim must have (or contain) one of the values.',
                        }),
                      ),
                      sessionMaxAge: Type.Optional(
                        TimerDuration(
                          'Longest session, refreshes included (default 12h). A session without a refresh token ends with its ID token.',
                        ),
                      ),
                    },
                    {
                      additionalProperties: false,
                      description:
                        'Single sign-on for people: a browser without a session is sent to the provider (authorization code + PKCE) and comes back to `<docs prefix>/oauth2/callback`; `<docs prefix>/oauth2/logout` ends the session. Register both (and `<docs prefix>/oauth2/signed-out` as the post-logout URL) with the provider. With `providers` too, machines may still use those.',
                    },
                  ),
                ),
                allow: Type.Optional(
                  Type.Object(
                    {
                      subjects: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
                      groups: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
                    },
                    { additionalProperties: false },
                  ),
                ),
              },
              {
                additionalProperties: false,
                description:
                  'Protect the portal, Swagger UI, ReDoc and the documents (public when absent): OpenID Connect sign-on (`oidc`) for people, and/or auth `providers` (an external auth service with its cookie, an API key in the query).',
              },
            ),
          ),
        },
        { additionalProperties: false, description: 'Portal metadata for the published documents.' },
      ),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          certificates: Type.Array(
            Type.Object(
              {
                name: Type.String({
                  minLength: 1,
                  description: 'A `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`).',
                }),
                namespace: Type.Optional(Type.String({ description: "Default: the ModelGateway's namespace." })),
              },
              { additionalProperties: false },
            ),
            {
              minItems: 1,
              description:
                'Certificates of the HTTPS listener (`serve --https-port`), chosen by SNI from their DNS names; the first is the default. Replaced without a restart when the Secrets change; a certificate that is expired, unreadable or does not match its key is reported and the last good one keeps serving.',
            },
          ),
          minVersion: Type.Optional(StringEnum(['TLSv1.2', 'TLSv1.3'], { description: 'Default TLSv1.2.' })),
          http2: Type.Optional(Type.Boolean({ description: 'Offer HTTP/2 by ALPN next to HTTP/1.1 (default true).' })),
          clientAuth: Type.Optional(
            Type.Object(
              {
                mode: StringEnum(['Require', 'Optional'], {
                  description: 'Require: no verified client certificate, no connection. Optional: verified when sent.',
                }),
                caSecret: Type.Object(
                  { name: Type.String({ minLength: 1 }), namespace: Type.Optional(Type.String()) },
                  {
                    additionalProperties: false,
                    description: 'Secret with `ca.crt`: the CAs client certificates must chain to.',
                  },
                ),
              },
              {
                additionalProperties: false,
                description:
                  'Client certificates (mTLS). The verified subject reaches the model as `x-modelgate-client-subject` and authenticates through a `clientCertificate` auth provider.',
              },
            ),
          ),
          hsts: Type.Optional(
            Type.Object(
              {
                maxAge: Duration('Strict-Transport-Security max-age, e.g. `8760h`.'),
                includeSubDomains: Type.Optional(Type.Boolean()),
              },
              { additionalProperties: false, description: 'Send Strict-Transport-Security on HTTPS answers.' },
            ),
          ),
          redirectHTTP: Type.Optional(
            Type.Boolean({ description: 'The plain HTTP listener answers every request with 308 to the HTTPS one.' }),
          ),
        },
        { additionalProperties: false, description: 'TLS termination on the HTTPS listener.' },
      ),
    ),
    redis: Type.Optional(
      Type.Object(
        {
          url: Type.String({
            pattern: '^rediss?://',
            description:
              '`redis://host:port/db` of the shared store (`rediss://` for TLS). Credentials go in `auth`, not here: a password in the URL is refused.',
            ...secret('url'),
          }),
          auth: Type.Optional(
            SecretRef(
              'A Secret with `password` (and `username` for a Redis ACL user); read again when the Secret changes.',
            ),
          ),
          tls: Type.Optional(
            Type.Object(
              {
                caSecret: Type.Optional(
                  SecretRef(
                    'A Secret with `ca.crt`: the CAs the Redis server certificate must chain to (default: the system CAs).',
                  ),
                ),
                serverName: Type.Optional(
                  Type.String({
                    minLength: 1,
                    description: 'Name the server certificate must carry (default: the URL host).',
                  }),
                ),
              },
              { additionalProperties: false, description: 'TLS to Redis; needs a `rediss://` URL.' },
            ),
          ),
          timeout: Type.Optional(TimerDuration('Longest wait for Redis on a request (default 50ms).')),
          failureMode: Type.Optional(
            StringEnum(['open', 'closed'], {
              description: 'When Redis cannot answer: let requests through (open, default) or refuse them (closed).',
            }),
          ),
        },
        { additionalProperties: false, description: 'Redis for state shared by replicas (global rate limits).' },
      ),
    ),
    auth: Type.Optional(
      Type.Object(
        {
          providers: Type.Array(
            Type.Object(
              {
                name: Type.String({
                  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
                  description: 'Referenced by ModelAPIs.',
                }),
                apiKey: Type.Optional(
                  Type.Object(
                    {
                      secrets: Type.Optional(
                        Type.Array(
                          Type.Object(
                            { name: Type.String({ minLength: 1 }), namespace: Type.Optional(Type.String()) },
                            { additionalProperties: false },
                          ),
                          {
                            minItems: 1,
                            description:
                              'Secrets holding the keys: every data entry is one key, its name the identity (subject) of whoever holds it — or, for a Secret with an `api-key` entry, that one key with its subject (`modelgate.dev/subject`, default the Secret name), groups (`modelgate.dev/groups`) and metadata (`key.modelgate.dev/<name>` annotations, forwarded as `x-modelgate-key-<name>`).',
                          },
                        ),
                      ),
                      secretSelector: Type.Optional(
                        Type.Object(
                          {
                            matchLabels: Type.Record(Type.String(), Type.String(), {
                              description: 'Labels of the one-key Secrets (in the ModelGateway namespace) to use.',
                            }),
                          },
                          {
                            additionalProperties: false,
                            description: 'Also every Secret with these labels: adding a key is creating a Secret.',
                          },
                        ),
                      ),
                      header: Type.Optional(
                        Type.String({
                          pattern: '^[A-Za-z0-9-]+$',
                          description: 'Header carrying the key (default x-api-key).',
                        }),
                      ),
                      query: Type.Optional(
                        Type.String({ minLength: 1, description: 'Also accept the key in this query parameter.' }),
                      ),
                    },
                    { additionalProperties: false },
                  ),
                ),
                clientCertificate: Type.Optional(
                  Type.Object(
                    {
                      subject: Type.Optional(
                        StringEnum(['CommonName', 'DistinguishedName'], {
                          description: "The identity: the certificate's CN (default) or its whole subject DN.",
                        }),
                      ),
                    },
                    {
                      additionalProperties: false,
                      description:
                        'Clients that present a certificate the HTTPS listener verified (spec.tls.clientAuth); the subject is the identity for allow-lists.',
                    },
                  ),
                ),
                external: Type.Optional(
                  Type.Object(
                    {
                      url: Type.String({
                        pattern: '^https?://',
                        description:
                          'The auth service; asked with the original method, X-Original-URI and the chosen headers.',
                        ...secret('url'),
                      }),
                      forwardHeaders: Type.Optional(
                        Type.Array(Type.String({ pattern: '^[A-Za-z0-9-]+$' }), {
                          description: 'Request headers sent to the auth service (default authorization, cookie).',
                        }),
                      ),
                      copyHeaders: Type.Optional(
                        Type.Array(Type.String({ pattern: '^[A-Za-z0-9-]+$' }), {
                          description: "Headers of the auth service's 2xx answer copied onto the request to the model.",
                        }),
                      ),
                      subjectHeader: Type.Optional(
                        Type.String({
                          pattern: '^[A-Za-z0-9-]+$',
                          description: 'Answer header naming the subject (default x-auth-request-user).',
                        }),
                      ),
                      timeout: Type.Optional(TimerDuration('Longest wait for the auth service (default 1s).')),
                      failureMode: Type.Optional(
                        StringEnum(['closed', 'open'], {
                          description:
                            'When the auth service fails or times out: refuse with 503 (closed, default) or let through (open).',
                        }),
                      ),
                    },
                    {
                      additionalProperties: false,
                      description: 'External auth (the nginx auth_request / oauth2-proxy pattern).',
                    },
                  ),
                ),
                jwt: Type.Optional(
                  Type.Object(
                    {
                      issuer: Type.Optional(Type.String({ description: 'Required `iss`.' })),
                      audiences: Type.Optional(
                        Type.Array(Type.String(), { description: 'Accepted `aud` values (one must match).' }),
                      ),
                      jwksURL: Type.Optional(
                        Type.String({
                          pattern: '^https?://',
                          description: 'Where the signing keys are (cached; refetched when an unknown key id appears).',
                          ...secret('url'),
                        }),
                      ),
                      jwks: Type.Optional(
                        Type.Unsafe<{ keys: Record<string, unknown>[] }>({
                          type: 'object',
                          'x-kubernetes-preserve-unknown-fields': true,
                          description: 'Static public keys (a JWKS document) instead of a URL.',
                        }),
                      ),
                      requiredClaims: Type.Optional(
                        Type.Record(Type.String(), Type.String(), {
                          description: 'Claims that must have these values (403 otherwise).',
                        }),
                      ),
                      forwardClaims: Type.Optional(
                        Type.Record(Type.String(), Type.String({ pattern: '^[A-Za-z0-9-]+$' }), {
                          description: 'Claim → request header sent to the model.',
                        }),
                      ),
                      clockSkew: Type.Optional(Duration('Tolerance for exp/nbf/iat (default 30s).')),
                    },
                    {
                      additionalProperties: false,
                      description: 'Bearer JWTs (`Authorization: Bearer …`); subject = `sub`, groups = `groups`.',
                    },
                  ),
                ),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false, description: 'Authentication providers ModelAPIs can require.' },
      ),
    ),
    listener: Type.Optional(
      Type.Object(
        {
          requestHeadersTimeout: Type.Optional(
            TimerDuration(
              'The whole request head must arrive within this after the connection or the previous request (default 15s).',
            ),
          ),
          requestBodyTimeout: Type.Optional(
            TimerDuration(
              'Longest silence between two reads of a request body (default 60s); then 408 and the connection is closed.',
            ),
          ),
          requestReceiveTimeout: Type.Optional(
            TimerDuration('The whole request, head and body, must arrive within this (default 5m; `0s`: no limit).'),
          ),
          idleTimeout: Type.Optional(
            TimerDuration(
              'A kept-alive connection with no request in flight is closed after this (default 65s, above common load balancers).',
            ),
          ),
          maxConnectionDuration: Type.Optional(
            TimerDuration(
              'A connection is closed after the request in flight once it is this old (default 1h; `0s`: no limit), so long-lived clients spread over new replicas.',
            ),
          ),
          maxRequestsPerConnection: Type.Optional(
            Type.Integer({
              minimum: 0,
              description: 'Requests served on one connection before it is closed (default 0: no limit).',
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            "Limits on client connections, against clients that stall or hold connections (nginx's client_header_timeout, client_body_timeout, keepalive_timeout, keepalive_time and keepalive_requests).",
        },
      ),
    ),
    paths: Type.Optional(
      Type.Object(
        {
          escapedSlashes: Type.Optional(
            StringEnum(['Decode', 'Keep', 'Reject'], {
              description:
                'An encoded slash (`%2F`) in a request path: decoded before matching and forwarding (Decode, default, as nginx does), kept encoded (Keep; a segment that would become `..` once decoded is refused), or refused with 400 (Reject, also for `%5C`).',
            }),
          ),
          mergeSlashes: Type.Optional(
            Type.Boolean({ description: 'Merge `//` into `/` before matching and forwarding (default true).' }),
          ),
        },
        {
          additionalProperties: false,
          description:
            'How request paths are normalised before they are matched and forwarded (docs/paths.md has the table): dot segments are always removed and a path can never leave the prefix it matched.',
        },
      ),
    ),
    accessLog: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(
            Type.Boolean({ description: 'Write the access log (default true when this block is set).' }),
          ),
          fields: Type.Optional(
            Type.Array(StringEnum(ACCESS_LOG_FIELDS), {
              minItems: 1,
              uniqueItems: true,
              description: 'The fields of each line, in this order (default: all of them).',
            }),
          ),
          sampleRatio: Type.Optional(
            Type.Number({
              minimum: 0,
              maximum: 1,
              description:
                'Share of the requests that pass the filter which are logged (default 1). Answers ≥ 500 are always logged.',
            }),
          ),
          filter: Type.Optional(
            Type.Object(
              {
                minStatus: Type.Optional(
                  Type.Integer({ minimum: 100, maximum: 599, description: 'Log answers with at least this status.' }),
                ),
                slowerThan: Type.Optional(Duration('Log requests that took longer than this.')),
              },
              {
                additionalProperties: false,
                description:
                  'Which requests are logged: with a filter, those matching any of its conditions (e.g. status ≥ 400 or slower than 1s); without, all.',
              },
            ),
          ),
        },
        {
          additionalProperties: false,
          description:
            'One JSON line per request on standard output, written asynchronously (it never holds a response). Query strings and headers are never logged.',
        },
      ),
    ),
    tracing: Type.Optional(
      Type.Object(
        {
          otlpEndpoint: Type.String({
            pattern: '^https?://',
            description:
              'Where spans are sent: an OTLP/HTTP traces endpoint, e.g. `http://otel-collector.observability:4318/v1/traces`.',
          }),
          samplingRatio: Type.Optional(
            Type.Number({
              minimum: 0,
              maximum: 1,
              description:
                "Share of new traces recorded (default 1); a request that comes with a trace context follows its caller's decision.",
            }),
          ),
          serviceName: Type.Optional(
            Type.String({ minLength: 1, description: 'service.name of the spans (default modelgate).' }),
          ),
          protocol: Type.Optional(
            StringEnum(['http/protobuf', 'http/json'], {
              description:
                'OTLP/HTTP encoding (default http/protobuf, the OpenTelemetry default: about a third of the bytes and less CPU than JSON).',
            }),
          ),
          headersSecret: Type.Optional(
            Type.Object(
              { name: Type.String({ minLength: 1 }), namespace: Type.Optional(Type.String()) },
              {
                additionalProperties: false,
                description:
                  'A Secret whose entries are sent as headers with every export (e.g. `authorization`), never shown in /config, logs or status.',
              },
            ),
          ),
        },
        {
          additionalProperties: false,
          description:
            'OpenTelemetry tracing: a server span per request and a client span per upstream attempt, exported over OTLP/HTTP. Without it, W3C trace context still reaches the model unchanged.',
        },
      ),
    ),
    upstream: Type.Optional(
      Type.Object(
        {
          transport: Type.Optional(
            StringEnum(['Native', 'Undici'], {
              description:
                "The HTTP/1.1 client that carries requests to model servers: the gateway's own (Native, default: the cheaper one per request) or undici. Both pass the same conformance table.",
            }),
          ),
        },
        { additionalProperties: false, description: 'How the gateway talks to model servers.' },
      ),
    ),
    defaults: Type.Optional(
      Type.Object(
        {
          timeouts: Type.Optional(Timeouts),
          retries: Type.Optional(Retries),
          healthCheck: Type.Optional(HealthCheck),
          maxRequestBodyBytes: Type.Optional(Type.Integer({ minimum: 0 })),
          drainTimeout: Type.Optional(TimerDuration('How long shutdown waits for in-flight requests (default 30s).')),
        },
        { additionalProperties: false, description: 'Defaults applied to every ModelAPI that does not set its own.' },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ModelGateway = Type.Object({
  apiVersion: Type.Literal('modelgate.dev/v1alpha1'),
  kind: Type.Literal('ModelGateway'),
  metadata: ObjectMeta,
  spec: ModelGatewaySpec,
  status: Type.Optional(
    Type.Object({
      observedGeneration: Type.Optional(Type.Integer()),
      conditions: Type.Optional(Type.Array(Condition)),
    }),
  ),
});

/** A ModelGateway resource as read from a source. */
export type ModelGateway = Static<typeof ModelGateway>;
export type ModelGatewaySpec = Static<typeof ModelGatewaySpec>;
