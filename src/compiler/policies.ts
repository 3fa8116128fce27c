/**
 * Traffic policies of a ModelAPI, compiled into its rules: API-key authentication (keys read from Secrets and kept
 * only as sha256 hashes) and CORS. A reference that cannot be resolved fails closed — the API answers 401 — and says
 * why in the resource's status. Pure.
 */
import { createHash } from 'node:crypto';
import type { ConditionInput } from '../resources/status.ts';
import { condition } from '../resources/status.ts';
import type { Secret } from '../schema/core.ts';
import type { ModelAPI } from '../schema/model-api.ts';
import type { ModelGateway } from '../schema/model-gateway.ts';
import type {
  ApiKeyProvider,
  AuthPolicy,
  CorsPolicy,
  ExternalAuthProvider,
  JwtProvider,
  RateLimitPolicy,
  RouteRule,
} from '../snapshot/types.ts';
import { durationMs } from './durations.ts';

/** The header API keys come in when a provider names none. */
export const DEFAULT_API_KEY_HEADER = 'x-api-key';

/** What the policies of one ModelAPI compile to. */
export interface CompiledPolicies {
  readonly ipAccess?: { readonly allow?: readonly string[]; readonly deny?: readonly string[] };
  readonly rateLimit?: RateLimitPolicy;
  readonly auth?: AuthPolicy;
  readonly cors?: CorsPolicy;
  readonly problems: ConditionInput[];
}

/** Compiles the auth and CORS policies of a ModelAPI. */
export function compilePolicies(
  api: ModelAPI,
  gateway: ModelGateway | undefined,
  secrets: readonly Secret[],
): CompiledPolicies {
  const problems: string[] = [];
  let auth: AuthPolicy | undefined;
  if (api.spec.auth) {
    const providers: (ApiKeyProvider | JwtProvider | ExternalAuthProvider)[] = [];
    for (const name of api.spec.auth.providers) {
      const provider = gateway?.spec.auth?.providers.find((p) => p.name === name);
      if (provider?.external) {
        const e = provider.external;
        providers.push({
          kind: 'external',
          name,
          url: e.url,
          forwardHeaders: (e.forwardHeaders ?? ['authorization', 'cookie']).map((h) => h.toLowerCase()),
          copyHeaders: (e.copyHeaders ?? []).map((h) => h.toLowerCase()),
          subjectHeader: (e.subjectHeader ?? 'x-auth-request-user').toLowerCase(),
          timeoutMs: durationMs(e.timeout) ?? 1000,
          failOpen: e.failureMode === 'open',
        });
        continue;
      }
      if (provider?.jwt) {
        const j = provider.jwt;
        if (!j.jwksURL && !j.jwks) problems.push(`auth provider ${name}: jwt needs jwksURL or jwks`);
        providers.push({
          kind: 'jwt',
          name,
          ...(j.issuer ? { issuer: j.issuer } : {}),
          ...(j.audiences ? { audiences: j.audiences } : {}),
          ...(j.jwksURL ? { jwksURL: j.jwksURL } : {}),
          ...(j.jwks ? { jwks: j.jwks } : {}),
          requiredClaims: j.requiredClaims ?? {},
          forwardClaims: Object.fromEntries(
            Object.entries(j.forwardClaims ?? {}).map(([c, h]) => [c, h.toLowerCase()]),
          ),
          clockSkewSeconds: Math.round((durationMs(j.clockSkew) ?? 30_000) / 1000),
        });
        continue;
      }
      if (!provider?.apiKey) {
        problems.push(`auth provider ${name} is not declared in the ModelGateway`);
        continue;
      }
      const keys: Record<string, string> = {};
      for (const ref of provider.apiKey.secrets) {
        const namespace = ref.namespace ?? api.metadata.namespace ?? 'default';
        const secret = secrets.find(
          (s) => s.metadata.name === ref.name && (s.metadata.namespace ?? 'default') === namespace,
        );
        if (!secret) {
          problems.push(`Secret ${namespace}/${ref.name} of auth provider ${name} not found`);
          continue;
        }
        for (const [subject, key] of secretEntries(secret)) {
          if (key.length > 0) keys[sha256Hex(key)] = subject;
        }
      }
      providers.push({
        kind: 'apiKey',
        name,
        header: (provider.apiKey.header ?? DEFAULT_API_KEY_HEADER).toLowerCase(),
        ...(provider.apiKey.query ? { query: provider.apiKey.query } : {}),
        keys,
      });
    }
    auth = {
      providers,
      ...(api.spec.auth.allow?.subjects ? { allowSubjects: api.spec.auth.allow.subjects } : {}),
      ...(api.spec.auth.allow?.groups ? { allowGroups: api.spec.auth.allow.groups } : {}),
    };
  }
  const c = api.spec.cors;
  const cors: CorsPolicy | undefined = c
    ? {
        allowOrigins: c.allowOrigins,
        allowMethods: c.allowMethods ?? ['GET', 'POST', 'OPTIONS'],
        allowHeaders: c.allowHeaders ?? ['content-type', 'authorization', DEFAULT_API_KEY_HEADER],
        exposeHeaders: c.exposeHeaders ?? ['x-request-id', 'x-model-version'],
        allowCredentials: c.allowCredentials === true,
        maxAgeSeconds: Math.round((durationMs(c.maxAge) ?? 600_000) / 1000),
      }
    : undefined;
  if (c?.allowCredentials && c.allowOrigins.includes('*'))
    problems.push('cors: allowCredentials cannot be used with the origin `*`; credentials are not allowed');
  const rl = api.spec.rateLimit;
  const rateLimit: RateLimitPolicy | undefined = rl
    ? {
        id: `${api.metadata.namespace ?? 'default'}/${api.metadata.name}|${rl.requests}/${rl.per}/${rl.burst ?? ''}/${rl.key ?? ''}`,
        requests: rl.requests,
        windowMs: durationMs(rl.per) ?? 60_000,
        burst: rl.burst ?? rl.requests,
        key: rl.key ?? (api.spec.auth ? 'subject' : 'clientIP'),
        scope: rl.scope === 'global' && gateway?.spec.redis ? 'global' : 'local',
      }
    : undefined;
  if (rl?.scope === 'global' && !gateway?.spec.redis)
    problems.push('rateLimit.scope global needs spec.redis in the ModelGateway; limiting per replica meanwhile');
  const ip = api.spec.ipAccess;
  return {
    ...(ip && (ip.allow || ip.deny)
      ? { ipAccess: { ...(ip.allow ? { allow: ip.allow } : {}), ...(ip.deny ? { deny: ip.deny } : {}) } }
      : {}),
    ...(rateLimit ? { rateLimit } : {}),
    ...(auth ? { auth } : {}),
    ...(cors
      ? { cors: c?.allowCredentials && c.allowOrigins.includes('*') ? { ...cors, allowCredentials: false } : cors }
      : {}),
    problems:
      problems.length > 0 ? [condition('ResolvedRefs', 'False', 'PolicyRefNotResolved', problems.join('; '))] : [],
  };
}

/** Adds the policies to every Forward rule of the API. */
export function withPolicies(rules: readonly RouteRule[], policies: CompiledPolicies): RouteRule[] {
  if (!policies.auth && !policies.cors && !policies.rateLimit && !policies.ipAccess) return [...rules];
  return rules.map((rule) =>
    rule.action.type === 'Forward'
      ? {
          ...rule,
          action: {
            ...rule.action,
            ...(policies.auth ? { auth: policies.auth } : {}),
            ...(policies.cors ? { cors: policies.cors } : {}),
            ...(policies.rateLimit ? { rateLimit: policies.rateLimit } : {}),
            ...(policies.ipAccess ? { ipAccess: policies.ipAccess } : {}),
          },
        }
      : rule,
  );
}

function secretEntries(secret: Secret): [string, string][] {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(secret.data ?? {})) out.set(k, Buffer.from(v, 'base64').toString('utf8').trim());
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out.set(k, v.trim());
  return [...out];
}

/** sha256 of a key, hex. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
