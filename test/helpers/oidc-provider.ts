/**
 * A real OpenID provider on loopback for the sign-on tests: `oidc-provider` (the certified Node.js implementation)
 * with its development login and consent pages (any login, any password), one confidential client, groups per
 * account, refresh tokens, RP-initiated logout, and short token lifetimes so a test can watch a refresh happen.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestProvider {
  readonly issuer: string;
  /** Token endpoint calls by grant type (`authorization_code`, `refresh_token`). */
  readonly grants: Record<string, number>;
  close(): Promise<void>;
}

/** Groups of the accounts the tests sign in as. */
const GROUPS: Record<string, string[]> = { alice: ['ml-team'], mallory: ['visitors'] };

export async function startOidcProvider(client: {
  id: string;
  secret: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  /** Lifetime of ID and access tokens, seconds. */
  tokenTtlSeconds: number;
}): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.id,
        client_secret: client.secret,
        redirect_uris: [client.redirectUri],
        post_logout_redirect_uris: [client.postLogoutRedirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
    claims: { openid: ['sub'], groups: ['groups'], email: ['email'] },
    // Groups in the ID token, as Keycloak or Entra ID put them with a mapper.
    conformIdTokenClaims: false,
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => ({ sub: id, email: `${id}@example.test`, groups: GROUPS[id] ?? [] }),
    }),
    ttl: {
      IdToken: client.tokenTtlSeconds,
      AccessToken: client.tokenTtlSeconds,
      RefreshToken: 3600,
      Session: 3600,
      Grant: 3600,
      Interaction: 600,
    },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    cookies: { keys: ['modelgate-test-only-cookie-key'] },
  } as never);
  const grants: Record<string, number> = {};
  provider.on('grant.success', (ctx) => {
    const type = String(ctx.oidc.params?.grant_type ?? '?');
    grants[type] = (grants[type] ?? 0) + 1;
  });
  server.on('request', provider.callback());
  return {
    issuer,
    grants,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
