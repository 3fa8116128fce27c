/**
 * OpenID Connect sign-on for the docs portal (issue 21), against a real OpenID provider (`oidc-provider` from npm) on
 * loopback, through Chromium: the portal sends a browser without a session to the provider, the person signs in and
 * consents, comes back to the page first asked for with a sealed session cookie (HttpOnly, SameSite=Lax), reads the
 * documents; the session is renewed with the refresh token once the ID token expired; a person outside the allowed
 * group is refused; a machine without a browser gets 401 problem+json; logout ends the session at the gateway and at
 * the provider. The gateway's pages make no request off loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { startServer } from '../../examples/servers/http-util.ts';
import { irisHandler } from '../../examples/servers/iris-v2-server.ts';
import { call, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startOidcProvider, type TestProvider } from '../helpers/oidc-provider.ts';
import { requireSystemPackages } from '../helpers/system-packages.ts';
import { unusedPort } from '../helpers/upstream.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!process.env.CHROMIUM_PATH) requireSystemPackages('chromium', 'fonts-liberation');

const TOKEN_TTL_S = 3;

describe('docs portal sign-on with OpenID Connect', () => {
  let gw: TestGateway;
  let op: TestProvider;
  let browser: Browser;
  let iris: { server: import('node:http').Server; port: number };
  const offLoopback: string[] = [];

  before(async () => {
    iris = await startServer(irisHandler('iris'));
    const port = await unusedPort();
    const publicURL = `http://127.0.0.1:${port}`;
    op = await startOidcProvider({
      id: 'model-portal',
      secret: 'portal-client-secret-for-tests',
      redirectUri: `${publicURL}/portal/oauth2/callback`,
      postLogoutRedirectUri: `${publicURL}/portal/oauth2/signed-out`,
      tokenTtlSeconds: TOKEN_TTL_S,
    });
    const gateway = `apiVersion: modelgate.dev/v1alpha1
kind: ModelGateway
metadata: {name: gw}
spec:
  docs:
    title: Signed-on models
    pathPrefix: /portal
    auth:
      allow: {groups: [ml-team]}
      oidc:
        issuer: ${op.issuer}
        clientID: model-portal
        clientSecret: {name: portal-oidc}
        scopes: [openid, email, groups, offline_access]
---
apiVersion: v1
kind: Secret
metadata: {name: portal-oidc}
stringData: {client-secret: portal-client-secret-for-tests}
`;
    gw = await startGateway(
      {
        'gateway.yaml': gateway,
        'iris.yaml': modelApiYaml('iris', 'open-inference-v2', [{ name: 'v1', url: `http://127.0.0.1:${iris.port}` }]),
      },
      { port, publicURL },
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
    });
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await op?.close();
    iris?.server.close();
  });

  async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
      // The provider's development pages load web fonts; only the gateway's pages must stay on their origin.
      let from = '';
      try {
        from = new URL(route.request().frame().url()).origin;
      } catch {
        // a request without a frame (a service worker): not the gateway's page
      }
      if (from === new URL(gw.url).origin) offLoopback.push(url.href);
      return route.abort();
    });
    return { context, page };
  }

  /** Signs in at the provider's development pages (any password), consenting to the scopes. */
  async function signIn(page: Page, login: string): Promise<void> {
    await page.waitForSelector('input[name="login"]', { timeout: 15_000 });
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', 'any-password');
    await page.click('button[type="submit"]');
    await page.waitForSelector('button[type="submit"]', { timeout: 15_000 });
    if (new URL(page.url()).port !== new URL(gw.url).port) await page.click('button[type="submit"]'); // consent
  }

  it('sends a browser to the provider, and back to the page it asked for with a sealed session', async () => {
    const { context, page } = await freshPage();
    await page.goto(`${gw.url}/portal/docs`);
    assert.equal(new URL(page.url()).origin, op.issuer, 'at the provider');
    const authorize = new URL(page.url());
    await signIn(page, 'alice');
    await page.waitForURL(`${gw.url}/portal/docs`, { timeout: 15_000 });
    await page.waitForSelector('.swagger-ui', { timeout: 15_000 });
    assert.ok(authorize.pathname.length > 0);
    const cookies = await context.cookies(gw.url);
    const session = cookies.find((c) => c.name === 'modelgate_docs_session')!;
    assert.ok(session, 'a session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');
    assert.equal(session.secure, false, 'plain HTTP here; Secure on an HTTPS public URL');
    assert.doesNotMatch(session.value, /alice/, 'sealed: the browser cannot read it');
    // The session opens the documents too (the same cookie; a fetch from the page).
    const status = await page.evaluate(async () => (await fetch('../portal/openapi.json')).status);
    assert.equal(status, 200);
    assert.equal(op.grants.authorization_code, 1);

    // Once the ID token expired, the next page renews the session with the refresh token (no new sign-in). (The
    // Swagger UI page may already have needed one renewal: tokens live 3 s here.)
    const refreshes = op.grants.refresh_token ?? 0;
    await new Promise((r) => setTimeout(r, (TOKEN_TTL_S + 1.5) * 1000));
    await page.goto(`${gw.url}/portal/`);
    assert.equal(new URL(page.url()).origin, new URL(gw.url).origin, 'still at the portal');
    assert.match(await page.content(), /Signed-on models/);
    assert.equal(op.grants.refresh_token, refreshes + 1, 'renewed with the refresh token');
    assert.equal(op.grants.authorization_code, 1, 'no second sign-in');

    // Logout ends the session at the gateway and at the provider.
    await page.goto(`${gw.url}/portal/oauth2/logout`);
    assert.equal(new URL(page.url()).origin, op.issuer, "the provider's end-session page");
    await page.click('button[name="logout"]');
    await page.waitForURL(`${gw.url}/portal/oauth2/signed-out`, { timeout: 15_000 });
    assert.match(await page.content(), /Signed out/);
    assert.equal(
      (await context.cookies(gw.url)).some((c) => c.name === 'modelgate_docs_session'),
      false,
    );
    await page.goto(`${gw.url}/portal/`);
    assert.equal(new URL(page.url()).origin, op.issuer, 'signed out: back to the provider');
    await page.waitForSelector('input[name="login"]', { timeout: 15_000 });
    await context.close();
    assert.deepEqual(offLoopback, []);
  });

  it('refuses a person outside the allowed groups, and sets no session', async () => {
    const { context, page } = await freshPage();
    const answer = page.waitForResponse((r) => r.url().includes('/portal/oauth2/callback'), { timeout: 30_000 });
    await page.goto(`${gw.url}/portal/`);
    await signIn(page, 'mallory');
    const callback = await answer;
    assert.equal(callback.status(), 403);
    assert.match(String(callback.headers()['content-type']), /problem\+json/);
    assert.equal(
      (await context.cookies(gw.url)).some((c) => c.name === 'modelgate_docs_session'),
      false,
    );
    await context.close();
  });

  it('answers a machine 401 problem+json (no redirect), and a forged or foreign cookie opens nothing', async () => {
    const plain = await call(`${gw.url}/portal/openapi.json`);
    assert.equal(plain.status, 401);
    assert.equal(plain.headers['content-type'], 'application/problem+json');
    const forged = await call(`${gw.url}/portal/openapi.json`, {
      headers: { cookie: 'modelgate_docs_session=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC' },
    });
    assert.equal(forged.status, 401);
    const callback = await call(`${gw.url}/portal/oauth2/callback?code=x&state=y`);
    assert.equal(callback.status, 401, 'no sign-in in progress');
    // Model calls are not behind the docs sign-on.
    const model = await call(`${gw.url}/models/iris/ready`);
    assert.equal(model.status, 200);
  });

  it('keeps the docs closed (503) when sign-on is configured but its Secret is missing', async () => {
    const broken = await startGateway({
      'gateway.yaml': `apiVersion: modelgate.dev/v1alpha1
kind: ModelGateway
metadata: {name: gw}
spec:
  docs:
    auth:
      oidc: {issuer: ${op.issuer}, clientID: model-portal, clientSecret: {name: missing}}
`,
    });
    try {
      const res = await call(`${broken.url}/openapi.json`);
      assert.equal(res.status, 503);
      assert.equal((res.json() as { code: string }).code, 'MG-503-AUTH-UNAVAILABLE');
    } finally {
      await broken.stop();
    }
  });
});
