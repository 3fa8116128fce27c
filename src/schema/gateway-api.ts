/**
 * The Gateway API objects modelgate reads (`gateway.networking.k8s.io/v1` GatewayClass, Gateway, HTTPRoute,
 * `v1beta1` ReferenceGrant) and core/v1 Namespace, with the fields it uses typed as the specification defines them.
 * Like the other core objects they are open (unknown fields allowed), and they are NOT defaulted here: the API server
 * applies CRD defaults in a cluster, file mode does not, so the compiler applies the specification's defaults itself.
 */
import { type Static, Type } from '@sinclair/typebox';
import { ObjectMeta, TimerDuration } from './common.ts';

const open = { additionalProperties: true } as const;
const Str = (description?: string) => Type.String(description ? { description } : {});
const Port = Type.Integer({ minimum: 1, maximum: 65535 });

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export const GatewayClass = Type.Object(
  {
    apiVersion: Type.Union([Type.Literal(`${GATEWAY_GROUP}/v1`), Type.Literal(`${GATEWAY_GROUP}/v1beta1`)]),
    kind: Type.Literal('GatewayClass'),
    metadata: ObjectMeta,
    spec: Type.Object({ controllerName: Str('The controller that manages Gateways of this class.') }, open),
  },
  open,
);

const LabelSelector = Type.Object(
  {
    matchLabels: Type.Optional(Type.Record(Type.String(), Type.String())),
    matchExpressions: Type.Optional(
      Type.Array(Type.Object({ key: Str(), operator: Str(), values: Type.Optional(Type.Array(Type.String())) }, open)),
    ),
  },
  open,
);

export const Listener = Type.Object(
  {
    name: Str(),
    hostname: Type.Optional(Str()),
    port: Port,
    protocol: Str(),
    allowedRoutes: Type.Optional(
      Type.Object(
        {
          namespaces: Type.Optional(
            Type.Object({ from: Type.Optional(Str()), selector: Type.Optional(LabelSelector) }, open),
          ),
          kinds: Type.Optional(Type.Array(Type.Object({ group: Type.Optional(Str()), kind: Str() }, open))),
        },
        open,
      ),
    ),
  },
  open,
);

export const Gateway = Type.Object(
  {
    apiVersion: Type.Union([Type.Literal(`${GATEWAY_GROUP}/v1`), Type.Literal(`${GATEWAY_GROUP}/v1beta1`)]),
    kind: Type.Literal('Gateway'),
    metadata: ObjectMeta,
    spec: Type.Object({ gatewayClassName: Str(), listeners: Type.Array(Listener, { minItems: 1 }) }, open),
  },
  open,
);

/**
 * What may go on the wire as written: a header name is a token and a value has no control character (the Gateway
 * API's own patterns), and a rewritten path is made of path characters only — a line break in any of them would end
 * the line and start another header or request.
 */
const HEADER_NAME = "^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$";
const HEADER_VALUE = '^[^\\x00-\\x08\\x0A-\\x1F\\x7F]*$';
export const PATH_VALUE = "^/(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})*$";
/** The Gateway API's PreciseHostname. */
const PreciseHostname = Type.String({
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  maxLength: 253,
});
const HeaderValue = Type.Object(
  {
    name: Type.String({ pattern: HEADER_NAME, maxLength: 256 }),
    value: Type.String({ pattern: HEADER_VALUE, maxLength: 4096 }),
  },
  open,
);
export const HeaderModifierSpec = Type.Object(
  {
    set: Type.Optional(Type.Array(HeaderValue)),
    add: Type.Optional(Type.Array(HeaderValue)),
    remove: Type.Optional(Type.Array(Type.String({ pattern: HEADER_NAME, maxLength: 256 }))),
  },
  open,
);
const PathModifier = Type.Object(
  {
    type: Str(),
    replaceFullPath: Type.Optional(Type.String({ pattern: PATH_VALUE, maxLength: 1024 })),
    replacePrefixMatch: Type.Optional(Type.String({ pattern: PATH_VALUE, maxLength: 1024 })),
  },
  open,
);
const BackendObjectRef = Type.Object(
  {
    group: Type.Optional(Str()),
    kind: Type.Optional(Str()),
    name: Str(),
    namespace: Type.Optional(Str()),
    port: Type.Optional(Port),
  },
  open,
);

export const HTTPRouteFilter = Type.Object(
  {
    type: Str(),
    requestHeaderModifier: Type.Optional(HeaderModifierSpec),
    responseHeaderModifier: Type.Optional(HeaderModifierSpec),
    requestRedirect: Type.Optional(
      Type.Object(
        {
          scheme: Type.Optional(Str()),
          hostname: Type.Optional(PreciseHostname),
          path: Type.Optional(PathModifier),
          port: Type.Optional(Port),
          statusCode: Type.Optional(Type.Integer()),
        },
        open,
      ),
    ),
    urlRewrite: Type.Optional(
      Type.Object({ hostname: Type.Optional(PreciseHostname), path: Type.Optional(PathModifier) }, open),
    ),
    requestMirror: Type.Optional(
      Type.Object(
        {
          backendRef: BackendObjectRef,
          percent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
          fraction: Type.Optional(
            Type.Object({ numerator: Type.Integer(), denominator: Type.Optional(Type.Integer()) }, open),
          ),
        },
        open,
      ),
    ),
  },
  open,
);

const ValueMatchSpec = Type.Object({ type: Type.Optional(Str()), name: Str(), value: Str() }, open);

export const HTTPRouteMatchSpec = Type.Object(
  {
    path: Type.Optional(Type.Object({ type: Type.Optional(Str()), value: Type.Optional(Str()) }, open)),
    headers: Type.Optional(Type.Array(ValueMatchSpec)),
    queryParams: Type.Optional(Type.Array(ValueMatchSpec)),
    method: Type.Optional(Str()),
  },
  open,
);

export const HTTPRoute = Type.Object(
  {
    apiVersion: Type.Union([Type.Literal(`${GATEWAY_GROUP}/v1`), Type.Literal(`${GATEWAY_GROUP}/v1beta1`)]),
    kind: Type.Literal('HTTPRoute'),
    metadata: ObjectMeta,
    spec: Type.Object(
      {
        parentRefs: Type.Optional(
          Type.Array(
            Type.Object(
              {
                group: Type.Optional(Str()),
                kind: Type.Optional(Str()),
                namespace: Type.Optional(Str()),
                name: Str(),
                sectionName: Type.Optional(Str()),
                port: Type.Optional(Port),
              },
              open,
            ),
          ),
        ),
        hostnames: Type.Optional(Type.Array(Type.String())),
        rules: Type.Optional(
          Type.Array(
            Type.Object(
              {
                name: Type.Optional(Str()),
                matches: Type.Optional(Type.Array(HTTPRouteMatchSpec)),
                filters: Type.Optional(Type.Array(HTTPRouteFilter)),
                backendRefs: Type.Optional(
                  Type.Array(
                    Type.Object(
                      {
                        group: Type.Optional(Str()),
                        kind: Type.Optional(Str()),
                        name: Str(),
                        namespace: Type.Optional(Str()),
                        port: Type.Optional(Port),
                        weight: Type.Optional(Type.Integer({ minimum: 0 })),
                        filters: Type.Optional(Type.Array(HTTPRouteFilter)),
                      },
                      open,
                    ),
                  ),
                ),
                timeouts: Type.Optional(
                  Type.Object(
                    {
                      request: Type.Optional(TimerDuration('The whole request (Gateway API Duration).')),
                      backendRequest: Type.Optional(TimerDuration('One upstream attempt (Gateway API Duration).')),
                    },
                    open,
                  ),
                ),
              },
              open,
            ),
          ),
        ),
      },
      open,
    ),
  },
  open,
);

export const ReferenceGrant = Type.Object(
  {
    apiVersion: Type.Union([Type.Literal(`${GATEWAY_GROUP}/v1beta1`), Type.Literal(`${GATEWAY_GROUP}/v1`)]),
    kind: Type.Literal('ReferenceGrant'),
    metadata: ObjectMeta,
    spec: Type.Object(
      {
        from: Type.Array(Type.Object({ group: Type.String(), kind: Str(), namespace: Str() }, open)),
        to: Type.Array(Type.Object({ group: Type.String(), kind: Str(), name: Type.Optional(Str()) }, open)),
      },
      open,
    ),
  },
  open,
);

/** Gateway API BackendTLSPolicy: how to speak TLS to a Service that HTTPRoutes send traffic to. */
export const BackendTLSPolicy = Type.Object(
  {
    apiVersion: Type.Literal(`${GATEWAY_GROUP}/v1`),
    kind: Type.Literal('BackendTLSPolicy'),
    metadata: ObjectMeta,
    spec: Type.Object(
      {
        targetRefs: Type.Array(
          Type.Object({ group: Type.String(), kind: Str(), name: Str(), sectionName: Type.Optional(Str()) }, open),
          { minItems: 1 },
        ),
        validation: Type.Object(
          {
            caCertificateRefs: Type.Optional(
              Type.Array(Type.Object({ group: Type.String(), kind: Str(), name: Str() }, open)),
            ),
            wellKnownCACertificates: Type.Optional(Type.String()),
            hostname: Str(),
          },
          open,
        ),
      },
      open,
    ),
  },
  open,
);

export const Namespace = Type.Object(
  { apiVersion: Type.Literal('v1'), kind: Type.Literal('Namespace'), metadata: ObjectMeta },
  open,
);

export type GatewayClass = Static<typeof GatewayClass>;
export type Gateway = Static<typeof Gateway>;
export type Listener = Static<typeof Listener>;
export type HTTPRoute = Static<typeof HTTPRoute>;
export type HTTPRouteFilter = Static<typeof HTTPRouteFilter>;
export type HeaderModifierSpec = Static<typeof HeaderModifierSpec>;
export type ReferenceGrant = Static<typeof ReferenceGrant>;
export type Namespace = Static<typeof Namespace>;
export type BackendTLSPolicy = Static<typeof BackendTLSPolicy>;
