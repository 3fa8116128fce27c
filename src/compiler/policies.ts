/**
 * Traffic policies of a ModelAPI, compiled into its rules: authentication (API keys read from Secrets and kept only
 * as sha256 hashes, JWT, an external service), CORS, address lists, request and token rate limits, the response cache
 * and request validation. A reference that cannot be resolved fails closed — the API answers 401 — and says
 * why in the resource's status. Pure.
 */
import { createHash } from 'node:crypto';
import { durationMs } from '../common/durations.ts';
import type { ConditionInput } from '../resources/status.ts';
import { condition } from '../resources/status.ts';
import type { Secret } from '../schema/core.ts';
import type { ModelAPI } from '../schema/model-api.ts';
import type { ModelGateway } from '../schema/model-gateway.ts';
import type {
  ApiKeyIdentity,
  ApiKeyProvider,
  AuthPolicy,
  CachePolicy,
  ClientCertificateProvider,
  CorsPolicy,
  ExternalAuthProvider,
  JwtProvider,
  RateLimitPolicy,
  RouteRule,
  ValidationPolicy,
} from '../snapshot/types.ts';

/** The header API keys come in when a provider names none. */
export const DEFAULT_API_KEY_HEADER = 'x-api-key';

/** What the policies of one ModelAPI compile to. */
export interface CompiledPolicies {
  readonly ipAccess?: { readonly allow?: readonly string[]; readonly deny?: readonly string[] };
  readonly rateLimit?: RateLimitPolicy;
  readonly tokenLimit?: RateLimitPolicy;
  readonly cache?: CachePolicy;
  readonly validation?: ValidationPolicy;
  readonly auth?: AuthPolicy;
  readonly cors?: CorsPolicy;
  readonly problems: ConditionInput[];
}

/** Whether a ModelAPI sets any traffic policy (the fields compilePolicies reads). */
export function hasPolicies(api: ModelAPI): boolean {
  const s = api.spec;
  return (
    s.auth !== undefined ||
    s.cors !== undefined ||
    s.ipAccess !== undefined ||
    s.rateLimit !== undefined ||
    s.tokenLimit !== undefined ||
    s.cache !== undefined ||
    s.validation !== undefined
  );
}

/** Compiles the traffic policies of a ModelAPI. */
export function compilePolicies(
  api: ModelAPI,
  gateway: ModelGateway | undefined,
  secrets: readonly Secret[],
): CompiledPolicies {
  const problems: string[] = [];
  const auth = api.spec.auth
    ? compileAuth(api.spec.auth, api.metadata.namespace ?? 'default', gateway, secrets, problems)
    : undefined;
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
  const id = `${api.metadata.namespace ?? 'default'}/${api.metadata.name}`;
  const bucket = (
    kind: string,
    limit: { per: string; burst?: number; key?: 'subject' | 'clientIP' | 'route'; scope?: 'local' | 'global' },
    amount: number,
  ): RateLimitPolicy => {
    if (limit.scope === 'global' && !gateway?.spec.redis)
      problems.push(`${kind}.scope global needs spec.redis in the ModelGateway; limiting per replica meanwhile`);
    return {
      // The id names the settings too: a changed limit starts with fresh buckets.
      id: `${id}|${kind}|${amount}/${limit.per}/${limit.burst ?? ''}/${limit.key ?? ''}`,
      requests: amount,
      windowMs: durationMs(limit.per) ?? 60_000,
      burst: limit.burst ?? amount,
      key: limit.key ?? (api.spec.auth ? 'subject' : 'clientIP'),
      scope: limit.scope === 'global' && gateway?.spec.redis ? 'global' : 'local',
    };
  };
  const rl = api.spec.rateLimit;
  const rateLimit = rl ? bucket('rateLimit', rl, rl.requests) : undefined;
  const tl = api.spec.tokenLimit;
  let tokenLimit: RateLimitPolicy | undefined;
  if (tl && api.spec.protocol !== 'openai')
    problems.push('tokenLimit applies to the openai protocol only (the usage the model reports); ignored');
  else if (tl) tokenLimit = bucket('tokenLimit', tl, tl.tokens);
  const cacheSpec = api.spec.cache;
  let cache: CachePolicy | undefined;
  if (cacheSpec) {
    const wanted = cacheSpec.store ?? 'auto';
    if (wanted === 'redis' && !gateway?.spec.redis)
      problems.push('cache.store redis needs spec.redis in the ModelGateway; caching per replica meanwhile');
    cache = {
      id,
      ttlMs: durationMs(cacheSpec.ttl) ?? 300_000,
      maxEntryBytes: cacheSpec.maxEntryBytes ?? 1024 * 1024,
      varyHeaders: (cacheSpec.varyHeaders ?? []).map((h) => h.toLowerCase()),
      store: wanted !== 'memory' && gateway?.spec.redis ? 'redis' : 'memory',
    };
  }
  const validation: ValidationPolicy | undefined = api.spec.validation
    ? { ref: `ModelAPI/${id}`, mode: api.spec.validation.mode ?? 'enforce', protocol: api.spec.protocol }
    : undefined;
  const ip = api.spec.ipAccess;
  return {
    ...(ip && (ip.allow || ip.deny)
      ? { ipAccess: { ...(ip.allow ? { allow: ip.allow } : {}), ...(ip.deny ? { deny: ip.deny } : {}) } }
      : {}),
    ...(rateLimit ? { rateLimit } : {}),
    ...(tokenLimit ? { tokenLimit } : {}),
    ...(cache ? { cache } : {}),
    ...(validation ? { validation } : {}),
    ...(auth ? { auth } : {}),
    ...(cors
      ? { cors: c?.allowCredentials && c.allowOrigins.includes('*') ? { ...cors, allowCredentials: false } : cors }
      : {}),
    problems:
      problems.length > 0 ? [condition('ResolvedRefs', 'False', 'PolicyRefNotResolved', problems.join('; '))] : [],
  };
}

/** The providers (and allow-lists) a resource names, resolved against the ModelGateway and its Secrets. */
export function compileAuth(
  spec: { readonly providers: readonly string[]; readonly allow?: { subjects?: string[]; groups?: string[] } },
  namespaceOfRefs: string,
  gateway: ModelGateway | undefined,
  secrets: readonly Secret[],
  problems: string[],
): AuthPolicy {
  const providers: (ApiKeyProvider | JwtProvider | ExternalAuthProvider | ClientCertificateProvider)[] = [];
  for (const name of spec.providers) {
    const provider = gateway?.spec.auth?.providers.find((p) => p.name === name);
    if (provider?.clientCertificate) {
      providers.push({ kind: 'clientCertificate', name, subject: provider.clientCertificate.subject ?? 'CommonName' });
      continue;
    }
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
        forwardClaims: Object.fromEntries(Object.entries(j.forwardClaims ?? {}).map(([c, h]) => [c, h.toLowerCase()])),
        clockSkewSeconds: Math.round((durationMs(j.clockSkew) ?? 30_000) / 1000),
      });
      continue;
    }
    if (!provider?.apiKey) {
      problems.push(`auth provider ${name} is not declared in the ModelGateway`);
      continue;
    }
    if (!provider.apiKey.secrets && !provider.apiKey.secretSelector)
      problems.push(`auth provider ${name}: apiKey needs secrets or a secretSelector`);
    const keys: Record<string, ApiKeyIdentity> = {};
    const selected: Secret[] = [];
    for (const ref of provider.apiKey.secrets ?? []) {
      const namespace = ref.namespace ?? namespaceOfRefs;
      const secret = secrets.find(
        (s) => s.metadata.name === ref.name && (s.metadata.namespace ?? 'default') === namespace,
      );
      if (secret) selected.push(secret);
      else problems.push(`Secret ${namespace}/${ref.name} of auth provider ${name} not found`);
    }
    const selector = provider.apiKey.secretSelector?.matchLabels;
    if (selector) {
      // One Secret per key, found by label: adding a key is creating a Secret, nothing else changes.
      const gatewayNamespace = gateway?.metadata.namespace ?? 'default';
      for (const s of secrets)
        if (
          (s.metadata.namespace ?? 'default') === gatewayNamespace &&
          Object.entries(selector).every(([k, v]) => s.metadata.labels?.[k] === v) &&
          !selected.includes(s)
        )
          selected.push(s);
    }
    for (const secret of selected) for (const [hash, identity] of secretKeys(secret)) keys[hash] = identity;
    providers.push({
      kind: 'apiKey',
      name,
      header: (provider.apiKey.header ?? DEFAULT_API_KEY_HEADER).toLowerCase(),
      ...(provider.apiKey.query ? { query: provider.apiKey.query } : {}),
      keys,
    });
  }
  const credentialQuery = [
    ...new Set(providers.flatMap((p) => (p.kind === 'apiKey' && p.query !== undefined ? [p.query] : []))),
  ];
  return {
    providers,
    ...(credentialQuery.length > 0 ? { credentialQuery } : {}),
    ...(spec.allow?.subjects ? { allowSubjects: spec.allow.subjects } : {}),
    ...(spec.allow?.groups ? { allowGroups: spec.allow.groups } : {}),
  };
}

/** Adds the policies to every Forward rule of the API. */
export function withPolicies(rules: readonly RouteRule[], policies: CompiledPolicies): RouteRule[] {
  const { problems: _, ...set } = policies;
  if (Object.keys(set).length === 0) return [...rules];
  return rules.map((rule) =>
    rule.action.type === 'Forward'
      ? {
          ...rule,
          action: {
            ...rule.action,
            ...set,
          },
        }
      : rule,
  );
}

/** Annotation prefix of per-key metadata (one-key-per-Secret form), forwarded as `x-modelgate-key-<name>`. */
export const KEY_METADATA_PREFIX = 'key.modelgate.dev/';

/**
 * The keys a Secret holds, by hash. Two forms: a Secret with an `api-key` entry holds one key, whose subject is the
 * `modelgate.dev/subject` annotation (default: the Secret's name), groups `modelgate.dev/groups` (comma-separated)
 * and metadata every `key.modelgate.dev/<name>` annotation; any other Secret holds one key per entry, the entry's
 * name being the subject.
 */
function secretKeys(secret: Secret): [string, ApiKeyIdentity][] {
  const entries = new Map<string, string>();
  for (const [k, v] of Object.entries(secret.data ?? {}))
    entries.set(k, Buffer.from(v, 'base64').toString('utf8').trim());
  for (const [k, v] of Object.entries(secret.stringData ?? {})) entries.set(k, v.trim());
  const single = entries.get('api-key');
  if (single === undefined)
    return [...entries].filter(([, key]) => key.length > 0).map(([subject, key]) => [sha256Hex(key), { subject }]);
  if (single.length === 0) return [];
  const annotations = secret.metadata.annotations ?? {};
  const groups = (annotations['modelgate.dev/groups'] ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  const headers = Object.entries(annotations)
    .filter(([k]) => k.startsWith(KEY_METADATA_PREFIX))
    .map(([k, v]) => [`x-modelgate-key-${k.slice(KEY_METADATA_PREFIX.length).toLowerCase()}`, v] as const)
    .sort((a, b) => a[0].localeCompare(b[0]));
  return [
    [
      sha256Hex(single),
      {
        subject: annotations['modelgate.dev/subject'] ?? secret.metadata.name,
        ...(groups.length > 0 ? { groups } : {}),
        ...(headers.length > 0 ? { headers } : {}),
      },
    ],
  ];
}

/** sha256 of a key, hex. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
