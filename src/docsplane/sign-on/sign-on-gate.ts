/**
 * OpenID Connect sign-on for the docs plane (ModelGateway `spec.docs.auth.oidc`): people reach the portal, Swagger
 * UI, ReDoc and the documents after signing in at their organisation's provider. The OAuth/OIDC protocol work —
 * discovery, PKCE, the code exchange with ID token validation (signature, issuer, audience, nonce), refresh, the
 * end-session URL — is openid-client's; this file decides when to use it and keeps the session.
 *
 *   browser without a session  → 302 to the provider (authorization code + PKCE S256, state, nonce), the login in
 *                                flight in a sealed cookie (10 min)
 *   <docs>/oauth2/callback     → code exchanged, claims checked against the allow-lists, session cookie set, back to
 *                                the page first asked for
 *   request with a session     → served; once its ID token expired, renewed with the refresh token (when the
 *                                provider gave one), up to `sessionMaxAge`; otherwise signed in again
 *   <docs>/oauth2/logout       → session cookie cleared, then the provider's end-session endpoint (when it has one),
 *                                which returns to <docs>/oauth2/signed-out
 *
 * Machines without a browser get 401 problem+json instead of a redirect. The session cookie is sealed (see
 * sealed-cookie.ts), `HttpOnly`, `SameSite=Lax`, `Secure` when the public URL is HTTPS.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as oidc from 'openid-client';
import { sendProblem } from '../../errors/problem.ts';
import type { DocsSignOn } from '../../snapshot/types.ts';
import { cookie, cookieKey, open, readCookie, seal } from './sealed-cookie.ts';

export const SESSION_COOKIE = 'modelgate_docs_session';
const LOGIN_COOKIE = 'modelgate_docs_login';
const LOGIN_TTL_S = 600;
/** A failed discovery is asked again after this long (not on every request, not never). */
const DISCOVERY_RETRY_MS = 10_000;
const DISCOVERY_TIMEOUT_S = 5;

/** What the gate decided for a request. */
export type GateVerdict =
  /** A valid session: serve. */
  | { readonly kind: 'pass'; readonly subject: string }
  /** The gate answered (a redirect, the callback, logout, an error). */
  | { readonly kind: 'answered' }
  /** No session: the caller may try other credentials, then `challenge`. */
  | { readonly kind: 'none' };

/** Where the sign-on lives for one snapshot. */
export interface SignOnPlace {
  readonly signOn: DocsSignOn;
  /** The docs plane's path prefix ('' = root). */
  readonly prefix: string;
  /** The gateway's public URL (redirect URIs are built on it). */
  readonly publicURL: string;
}

interface Session {
  readonly sub: string;
  /** When the session must end whatever happens (sign-in + sessionMaxAge), seconds. */
  readonly end: number;
  /** When the ID token expires: renew (or sign in again) after it, seconds. */
  readonly renewAt: number;
  readonly rt?: string;
  readonly idt?: string;
}

/** The sign-on of the docs plane; owns the providers' discovered configurations across snapshots. */
export class SignOnGate {
  readonly #configs = new Map<string, { config: Promise<oidc.Configuration>; failedAt?: number }>();

  /** Decides for `path` (already known to belong to the docs plane). */
  async check(place: SignOnPlace, req: IncomingMessage, res: ServerResponse, path: string): Promise<GateVerdict> {
    const rest = path.slice(place.prefix.length);
    if (rest === '/oauth2/callback') return this.#callback(place, req, res);
    if (rest === '/oauth2/logout') return this.#logout(place, req, res);
    if (rest === '/oauth2/signed-out') {
      signedOutPage(res);
      return { kind: 'answered' };
    }
    const session = await this.#session(place, req, res);
    return session ? { kind: 'pass', subject: session.sub } : { kind: 'none' };
  }

  /** No acceptable credentials: a browser is sent to sign in, anything else gets 401. */
  async challenge(place: SignOnPlace, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const browser = (req.method === 'GET' || req.method === 'HEAD') && (req.headers.accept ?? '').includes('text/html');
    if (!browser) {
      sendProblem(res, 'unauthenticated', 'sign in through the portal in a browser, or send the credentials it takes', {
        instance: req.url ?? '',
        requestId,
        headers: { 'www-authenticate': `Bearer realm="${place.prefix || '/'}"` },
      });
      return;
    }
    const config = await this.#config(place.signOn);
    if (!config) {
      sendProblem(res, 'authUnavailable', 'the OpenID provider cannot be reached; retry later', { requestId });
      return;
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri(place),
      scope: place.signOn.scopes.join(' '),
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(place.signOn.scopes.includes('offline_access') ? { prompt: 'consent' } : {}),
    });
    const back = sameOriginPath(req.url ?? '/');
    const login = await seal(
      { state, nonce, verifier, back },
      cookieKey(place.signOn.clientSecret, 'login'),
      now() + LOGIN_TTL_S,
    );
    res.writeHead(302, {
      location: url.href,
      'set-cookie': cookie(LOGIN_COOKIE, login, LOGIN_TTL_S, secure(place)),
      'cache-control': 'no-store',
    });
    res.end();
  }

  async #callback(place: SignOnPlace, req: IncomingMessage, res: ServerResponse): Promise<GateVerdict> {
    const { signOn } = place;
    const login = await open(readCookie(req.headers.cookie, LOGIN_COOKIE), cookieKey(signOn.clientSecret, 'login'));
    const fail = (name: 'unauthenticated' | 'forbidden' | 'authUnavailable', detail: string) => {
      sendProblem(res, name, detail, {
        instance: place.prefix + '/oauth2/callback',
        headers: { 'set-cookie': cookie(LOGIN_COOKIE, '', 0, secure(place)) },
      });
      return { kind: 'answered' } as const;
    };
    if (!login)
      return fail('unauthenticated', 'no sign-in in progress (or it took longer than 10 minutes); start again');
    const config = await this.#config(signOn);
    if (!config) return fail('authUnavailable', 'the OpenID provider cannot be reached; retry later');
    const query = (req.url ?? '').split('?')[1] ?? '';
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, new URL(`${redirectUri(place)}?${query}`), {
        pkceCodeVerifier: String(login.verifier),
        expectedState: String(login.state),
        expectedNonce: String(login.nonce),
        idTokenExpected: true,
      });
    } catch (err) {
      return fail('unauthenticated', `sign-in failed: ${(err as Error).message}`);
    }
    const claims: Record<string, unknown> = { ...(tokens.claims() ?? {}) };
    if (claims[signOn.groupsClaim] === undefined && tokens.access_token) {
      // Some providers put groups only in the user info (oidc-provider, Keycloak without a mapper).
      try {
        Object.assign(claims, await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub)), claims);
      } catch {
        // no user info: the ID token's claims decide
      }
    }
    const refusal = refusalOf(signOn, claims);
    if (refusal) return fail('forbidden', refusal);
    const issued = now();
    const session: Session = {
      sub: String(claims.sub),
      end: issued + Math.floor(signOn.sessionMaxAgeMs / 1000),
      renewAt: typeof claims.exp === 'number' ? claims.exp : issued + 300,
      ...(tokens.refresh_token ? { rt: tokens.refresh_token } : {}),
      ...(tokens.id_token && tokens.id_token.length < 2048 ? { idt: tokens.id_token } : {}),
    };
    res.writeHead(302, {
      location: String(login.back),
      'set-cookie': [cookie(LOGIN_COOKIE, '', 0, secure(place)), await sessionCookie(place, session)],
      'cache-control': 'no-store',
    });
    res.end();
    return { kind: 'answered' };
  }

  async #logout(place: SignOnPlace, req: IncomingMessage, res: ServerResponse): Promise<GateVerdict> {
    const session = await readSession(place, req);
    const config = await this.#config(place.signOn);
    const signedOut = `${publicBase(place)}/oauth2/signed-out`;
    let location = signedOut;
    if (config?.serverMetadata().end_session_endpoint) {
      location = oidc.buildEndSessionUrl(config, {
        post_logout_redirect_uri: signedOut,
        ...(session?.idt ? { id_token_hint: session.idt } : { client_id: place.signOn.clientId }),
      }).href;
    }
    res.writeHead(302, {
      location,
      'set-cookie': cookie(SESSION_COOKIE, '', 0, secure(place)),
      'cache-control': 'no-store',
    });
    res.end();
    return { kind: 'answered' };
  }

  /** The request's valid session, renewed with its refresh token once its ID token expired; undefined otherwise. */
  async #session(place: SignOnPlace, req: IncomingMessage, res: ServerResponse): Promise<Session | undefined> {
    const session = await readSession(place, req);
    if (!session) return undefined;
    const t = now();
    if (t >= session.end) return undefined;
    if (t < session.renewAt) return session;
    if (!session.rt) return undefined;
    const config = await this.#config(place.signOn);
    if (!config) return undefined;
    try {
      const tokens = await oidc.refreshTokenGrant(config, session.rt);
      const claims = tokens.claims();
      if (claims && claims.sub !== session.sub) return undefined;
      const renewed: Session = {
        ...session,
        renewAt: claims?.exp ?? t + (tokens.expires_in ?? 300),
        ...(tokens.refresh_token ? { rt: tokens.refresh_token } : {}),
        ...(tokens.id_token && tokens.id_token.length < 2048 ? { idt: tokens.id_token } : {}),
      };
      res.appendHeader('set-cookie', await sessionCookie(place, renewed));
      return renewed;
    } catch {
      return undefined; // revoked or expired refresh token: sign in again
    }
  }

  /** The provider's configuration, discovered once per issuer and client; undefined while it cannot be reached. */
  async #config(signOn: DocsSignOn): Promise<oidc.Configuration | undefined> {
    const key = `${signOn.issuer}\0${signOn.clientId}\0${createHash('sha256').update(signOn.clientSecret).digest('hex')}`;
    let entry = this.#configs.get(key);
    if (!entry || (entry.failedAt !== undefined && Date.now() - entry.failedAt > DISCOVERY_RETRY_MS)) {
      const insecure = signOn.issuer.startsWith('http://');
      entry = {
        config: oidc.discovery(
          new URL(signOn.issuer),
          signOn.clientId,
          undefined,
          oidc.ClientSecretPost(signOn.clientSecret),
          { timeout: DISCOVERY_TIMEOUT_S, ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}) },
        ),
      };
      this.#configs.set(key, entry);
      const current = entry;
      current.config.catch(() => {
        current.failedAt = Date.now();
      });
    }
    try {
      return await entry.config;
    } catch {
      return undefined;
    }
  }
}

/** Why the claims may not see the docs (allow-lists and required claims), or undefined. */
function refusalOf(signOn: DocsSignOn, claims: Record<string, unknown>): string | undefined {
  const subject = String(claims.sub ?? '');
  const groupsValue = claims[signOn.groupsClaim];
  const groups = Array.isArray(groupsValue)
    ? groupsValue.map(String)
    : typeof groupsValue === 'string'
      ? [groupsValue]
      : [];
  if (signOn.allowSubjects || signOn.allowGroups) {
    const bySubject = signOn.allowSubjects?.includes(subject) ?? false;
    const byGroup = signOn.allowGroups?.some((g) => groups.includes(g)) ?? false;
    if (!bySubject && !byGroup) return `${subject} is not in the subjects or groups allowed to read these docs`;
  }
  for (const [claim, allowed] of Object.entries(signOn.requiredClaims)) {
    const value = claims[claim];
    const values = Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)];
    if (!values.some((v) => allowed.includes(v))) return `the claim ${claim} has none of the values these docs require`;
  }
  return undefined;
}

async function readSession(place: SignOnPlace, req: IncomingMessage): Promise<Session | undefined> {
  const payload = await open(
    readCookie(req.headers.cookie, SESSION_COOKIE),
    cookieKey(place.signOn.clientSecret, 'session'),
  );
  if (!payload || typeof payload.sub !== 'string' || typeof payload.end !== 'number') return undefined;
  return payload as unknown as Session;
}

async function sessionCookie(place: SignOnPlace, session: Session): Promise<string> {
  const sealed = await seal({ ...session }, cookieKey(place.signOn.clientSecret, 'session'), session.end);
  return cookie(SESSION_COOKIE, sealed, session.end - now(), secure(place));
}

function publicBase(place: SignOnPlace): string {
  return `${place.publicURL.replace(/\/$/, '')}${place.prefix}`;
}

function redirectUri(place: SignOnPlace): string {
  return `${publicBase(place)}/oauth2/callback`;
}

function secure(place: SignOnPlace): boolean {
  return place.publicURL.startsWith('https:');
}

/** Only a path on this origin is a place to return to after sign-in (no open redirect). */
function sameOriginPath(url: string): string {
  return url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\') ? url : '/';
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function signedOutPage(res: ServerResponse): void {
  const body =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head>' +
    '<body><h1>Signed out</h1><p>You have left the model API docs. <a href="../portal">Sign in again</a></p></body></html>';
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
