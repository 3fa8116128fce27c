/**
 * Authentication at compile time: the providers a ModelAPI names, resolved against the ModelGateway and its Secrets.
 * API keys are read from Secrets and kept only as sha256 hashes (the data plane hashes what a caller presents).
 */
import { createHash } from 'node:crypto';
import { durationMs } from '../../common/durations.ts';
import type { Secret } from '../../schema/core.ts';
import type { ModelGateway } from '../../schema/model-gateway.ts';
import type {
  ApiKeyIdentity,
  ApiKeyProvider,
  AuthPolicy,
  ClientCertificateProvider,
  ExternalAuthProvider,
  JwtProvider,
} from '../../snapshot/types.ts';
import type { CompileStep } from '../compile-step.ts';

/** The header API keys come in when a provider names none. */
export const DEFAULT_API_KEY_HEADER = 'x-api-key';

export const authCompile: CompileStep<'auth'> = {
  field: 'auth',
  compile: ({ api, gateway, secrets, problems }) =>
    api.spec.auth
      ? compileAuth(api.spec.auth, api.metadata.namespace ?? 'default', gateway, secrets, problems)
      : undefined,
};

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
