/**
 * JWT authentication against a JWKS served on loopback: valid tokens pass with the subject and chosen claims forwarded
 * (the token itself is not), missing/expired/wrong-audience tokens get 401, a group not allowed or a missing required
 * claim 403, and a key rotation on the issuer is picked up without a restart. The bearer scheme is documented.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

type Key = { kid: string; privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']; jwk: JWK };

async function newKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

describe('JWT authentication', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let issuer: TestUpstream;
  let current: Key;
  const sign = (key: Key, claims: Record<string, unknown>, options: { exp?: string; aud?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setIssuer('https://issuer.test')
      .setAudience(options.aud ?? 'models')
      .setSubject(String(claims.sub ?? 'alice'))
      .setIssuedAt()
      .setExpirationTime(options.exp ?? '5m')
      .sign(key.privateKey);

  before(async () => {
    current = await newKey('k1');
    issuer = await startUpstream('issuer', (req, res) => {
      if (req.url !== '/jwks') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [current.jwk] }));
      return true;
    });
    up = await startUpstream('model');
    gw = await startGateway({
      'gw.yaml': `apiVersion: modelgate.dev/v1alpha1
kind: ModelGateway
metadata: {name: gw}
spec:
  auth:
    providers:
      - name: sso
        jwt:
          issuer: https://issuer.test
          audiences: [models]
          jwksURL: ${issuer.origin}/jwks
          requiredClaims: {tier: gold}
          forwardClaims: {email: X-User-Email}
`,
      'api.yaml': modelApiYaml(
        'secure',
        'openapi',
        [{ name: 'v1', url: up.origin }],
        '  auth: {providers: [sso], allow: {groups: [ml]}}\n  docs: {openAPI: {inline: {openapi: 3.1.0, info: {title: s, version: "1"}, paths: {/predict: {post: {responses: {"200": {description: ok}}}}}}}}\n',
      ),
    });
  });
  after(async () => {
    await gw.stop();
    await up.close();
    await issuer.close();
  });

  const predict = (token?: string) =>
    call(`${gw.url}/models/secure/predict`, { body: '{}', headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('lets a valid token through with its subject and chosen claims, never the token', async () => {
    const res = await predict(await sign(current, { sub: 'alice', groups: ['ml'], tier: 'gold', email: 'a@x.test' }));
    assert.equal(res.status, 200);
    const seen = up.seen.at(-1)!;
    assert.equal(seen.headers['x-modelgate-subject'], 'alice');
    assert.equal(seen.headers['x-user-email'], 'a@x.test');
    assert.equal(seen.headers.authorization, undefined);
  });

  it('answers 401 without a token, with an expired one or one for another audience', async () => {
    const none = await predict();
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="sso"');
    const expired = await predict(await sign(current, { groups: ['ml'], tier: 'gold' }, { exp: '-10m' }));
    assert.equal(expired.status, 401);
    assert.match((expired.json() as { detail: string }).detail, /expired/);
    const other = await predict(await sign(current, { groups: ['ml'], tier: 'gold' }, { aud: 'billing' }));
    assert.equal(other.status, 401);
  });

  it('answers 403 for a group not allowed or a required claim missing', async () => {
    assert.equal((await predict(await sign(current, { groups: ['sales'], tier: 'gold' }))).status, 403);
    assert.equal((await predict(await sign(current, { groups: ['ml'], tier: 'silver' }))).status, 403);
  });

  it('follows a key rotation on the issuer without a restart', async () => {
    current = await newKey('k2');
    const token = await sign(current, { groups: ['ml'], tier: 'gold' });
    // The key set is fetched again for an unknown key id (at most once a second).
    await eventually(async () => (await predict(token)).status === 200, 5000);
  });

  it('documents the bearer scheme', async () => {
    const doc = (await call(`${gw.url}/openapi.json`)).json() as {
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
    };
    assert.deepEqual(
      { type: doc.components.securitySchemes.sso!.type, scheme: doc.components.securitySchemes.sso!.scheme },
      { type: 'http', scheme: 'bearer' },
    );
  });
});
