/**
 * Authentication at request time: API keys, JWT, client certificates and an external service. API keys are compared by their sha256: the presented key is hashed and looked up, so neither the
 * lookup time nor memory ever involves a stored key. JWTs are verified with jose against the issuer's keys.
 */
import { hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose';
import { request } from 'undici';
import type {
  ApiKeyIdentity,
  ApiKeyProvider,
  AuthPolicy,
  ExternalAuthProvider,
  JwtProvider,
} from '../../snapshot/types.ts';

/** Who a request was authenticated as. */
export interface Identity {
  readonly subject: string;
  readonly provider: string;
  /** The header that carried the credential (removed before the request goes upstream). */
  readonly header: string;
  /** Claims forwarded to the model, as [header, value]. */
  readonly forward: readonly (readonly [string, string])[];
}

/** The outcome of authentication. */
export type AuthOutcome =
  | ({ readonly ok: true } & Identity)
  | { readonly ok: false; readonly error: 'unauthenticated' | 'forbidden' | 'unavailable'; readonly detail: string };

/** Verification keys of JWT providers: remote sets are cached (and refetched on an unknown key id) by URL. */
export class JwksCache {
  readonly #remote = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  readonly #local = new WeakMap<object, ReturnType<typeof createLocalJWKSet>>();

  /** The key resolver of a provider. */
  resolver(provider: JwtProvider): ReturnType<typeof createRemoteJWKSet> | ReturnType<typeof createLocalJWKSet> {
    if (provider.jwksURL) {
      let set = this.#remote.get(provider.jwksURL);
      if (!set) {
        set = createRemoteJWKSet(new URL(provider.jwksURL), { cooldownDuration: 1000, cacheMaxAge: 600_000 });
        this.#remote.set(provider.jwksURL, set);
      }
      return set;
    }
    const jwks = provider.jwks ?? { keys: [] };
    let set = this.#local.get(jwks);
    if (!set) {
      set = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
      this.#local.set(jwks, set);
    }
    return set;
  }
}

/**
 * Authenticates a request: an API key (header, then query) is checked at once; a bearer JWT needs signature
 * verification and may need the issuer's keys, so it answers a promise.
 */
export function authenticate(
  req: IncomingMessage,
  query: string,
  policy: AuthPolicy,
  jwks: JwksCache,
): AuthOutcome | Promise<AuthOutcome> {
  let params: URLSearchParams | undefined;
  let presented = false;
  for (const provider of policy.providers) {
    if (provider.kind === 'clientCertificate') {
      const subject = verifiedClientSubject(req, provider.subject);
      if (subject !== undefined)
        return allow(policy, { subject, provider: provider.name, header: '', forward: [] }, []);
      continue;
    }
    if (provider.kind !== 'apiKey') continue;
    let key = req.headers[provider.header];
    if (Array.isArray(key)) key = key[0];
    if (key === undefined && provider.query && query) {
      params ??= new URLSearchParams(query);
      key = params.get(provider.query) ?? undefined;
    }
    if (key === undefined || key === '') continue;
    presented = true;
    const found = verifiedKey(provider, key);
    if (found === undefined) continue;
    return allow(
      policy,
      { subject: found.subject, provider: provider.name, header: provider.header, forward: found.headers ?? [] },
      found.groups ?? [],
    );
  }
  const jwtProviders = policy.providers.filter((p): p is JwtProvider => p.kind === 'jwt');
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer && jwtProviders.length > 0) return verifyJwt(bearer, jwtProviders, policy, jwks);
  const external = policy.providers.find((p): p is ExternalAuthProvider => p.kind === 'external');
  if (external) return askExternal(req, external, policy);
  const first = policy.providers[0];
  return {
    ok: false,
    error: 'unauthenticated',
    detail: presented
      ? 'the API key is not valid'
      : first?.kind === 'jwt'
        ? 'send a bearer token (Authorization: Bearer …)'
        : `send an API key in the ${first?.kind === 'apiKey' ? first.header : 'x-api-key'} header`,
  };
}

/**
 * The subject of the client certificate the TLS listener verified (CN, or the whole DN as `CN=a,O=b`); undefined on a
 * plain connection or without a verified certificate.
 */
export function verifiedClientSubject(
  req: IncomingMessage,
  form: 'CommonName' | 'DistinguishedName',
): string | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (socket.encrypted !== true || socket.authorized !== true || !socket.getPeerCertificate) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert?.subject) return undefined;
  if (form === 'CommonName') return typeof cert.subject.CN === 'string' ? cert.subject.CN : undefined;
  return Object.entries(cert.subject)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(',');
}

/**
 * Asks the external auth service: the original method, `X-Original-URI`/`-Method` and the chosen headers. 2xx lets
 * the request through with the chosen answer headers copied onto it; 401/403 deny; anything else (an error, a
 * timeout) follows the provider's failure mode (503 by default).
 */
async function askExternal(
  req: IncomingMessage,
  provider: ExternalAuthProvider,
  policy: AuthPolicy,
): Promise<AuthOutcome> {
  const headers: Record<string, string> = {
    'x-original-uri': req.url ?? '/',
    'x-original-method': req.method ?? 'GET',
    'x-forwarded-host': req.headers.host ?? '',
  };
  for (const name of provider.forwardHeaders) {
    const v = req.headers[name];
    if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  try {
    const res = await request(provider.url, {
      method: (req.method === 'HEAD' ? 'HEAD' : 'GET') as 'GET',
      headers,
      signal: AbortSignal.timeout(provider.timeoutMs),
    });
    await res.body.dump();
    if (res.statusCode === 401 || res.statusCode === 403)
      return {
        ok: false,
        error: res.statusCode === 401 ? 'unauthenticated' : 'forbidden',
        detail: `the auth service answered ${res.statusCode}`,
      };
    if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`the auth service answered ${res.statusCode}`);
    const value = (name: string) => {
      const v = res.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    };
    const forward = provider.copyHeaders.flatMap((name) => {
      const v = value(name);
      return v === undefined ? [] : [[name, v] as const];
    });
    return allow(
      policy,
      { subject: value(provider.subjectHeader) ?? '', provider: provider.name, header: '', forward },
      [],
    );
  } catch (err) {
    if (provider.failOpen) return { ok: true, subject: '', provider: provider.name, header: '', forward: [] };
    return { ok: false, error: 'unavailable', detail: `the auth service failed: ${(err as Error).message}` };
  }
}

async function verifyJwt(
  token: string,
  providers: readonly JwtProvider[],
  policy: AuthPolicy,
  jwks: JwksCache,
): Promise<AuthOutcome> {
  let reason = 'the token is not valid';
  for (const provider of providers) {
    try {
      const { payload } = await jwtVerify(token, jwks.resolver(provider), {
        ...(provider.issuer ? { issuer: provider.issuer } : {}),
        ...(provider.audiences ? { audience: [...provider.audiences] } : {}),
        clockTolerance: provider.clockSkewSeconds,
      });
      for (const [claim, value] of Object.entries(provider.requiredClaims)) {
        if (String(payload[claim] ?? '') !== value)
          return {
            ok: false,
            error: 'forbidden',
            detail: `the token's ${claim} claim must be ${JSON.stringify(value)}`,
          };
      }
      const forward = Object.entries(provider.forwardClaims).flatMap(([claim, header]) => {
        const v = payload[claim];
        return v === undefined ? [] : [[header, typeof v === 'string' ? v : JSON.stringify(v)] as const];
      });
      const groups = Array.isArray(payload.groups) ? payload.groups.map(String) : [];
      return allow(
        policy,
        { subject: String(payload.sub ?? ''), provider: provider.name, header: 'authorization', forward },
        groups,
      );
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      reason =
        code === 'ERR_JWT_EXPIRED'
          ? 'the token has expired'
          : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
            ? `the token's ${(err as { claim?: string }).claim ?? 'claims'} does not match`
            : code === 'ERR_JWKS_NO_MATCHING_KEY'
              ? 'the token is signed with an unknown key'
              : 'the token is not valid';
    }
  }
  return { ok: false, error: 'unauthenticated', detail: reason };
}

/**
 * Keys that verified, per provider: a client sends the same key on every call, and its sha256 was the largest single
 * cost of an authenticated request (≈ 3 µs). Only keys that matched are remembered, so a map never holds more entries
 * than the provider has keys, and whatever a client sends cannot grow it; a changed Secret compiles a new provider
 * object, whose map starts empty. (The snapshot itself still holds only the hashes.) A lookup compares V8's string
 * hashes before any characters, so its timing tells nothing useful about a remembered key.
 */
const verifiedKeys = new WeakMap<ApiKeyProvider, Map<string, ApiKeyIdentity>>();

function verifiedKey(provider: ApiKeyProvider, key: string): ApiKeyIdentity | undefined {
  let known = verifiedKeys.get(provider);
  const remembered = known?.get(key);
  if (remembered !== undefined) return remembered;
  // One-shot hash: no Hash object per request.
  const found = provider.keys[hash('sha256', key, 'hex')];
  if (found !== undefined) {
    if (known === undefined) {
      known = new Map();
      verifiedKeys.set(provider, known);
    }
    known.set(key, found);
  }
  return found;
}

function allow(policy: AuthPolicy, identity: Identity, groups: readonly string[]): AuthOutcome {
  if (policy.allowSubjects && !policy.allowSubjects.includes(identity.subject)) {
    if (!policy.allowGroups || !groups.some((g) => policy.allowGroups!.includes(g)))
      return { ok: false, error: 'forbidden', detail: `${identity.subject} may not call this model API` };
  } else if (!policy.allowSubjects && policy.allowGroups && !groups.some((g) => policy.allowGroups!.includes(g))) {
    return { ok: false, error: 'forbidden', detail: `${identity.subject} is in none of the allowed groups` };
  }
  return { ok: true, ...identity };
}

/** The `WWW-Authenticate` challenges for a policy. */
export function challenge(policy: AuthPolicy): string {
  return (
    policy.providers
      .flatMap((p) =>
        p.kind === 'apiKey' ? [`ApiKey header="${p.header}"`] : p.kind === 'jwt' ? [`Bearer realm="${p.name}"`] : [],
      )
      .join(', ') || 'ApiKey'
  );
}
