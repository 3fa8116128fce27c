/**
 * External auth (the nginx auth_request / oauth2-proxy pattern) against an auth service on loopback: 2xx lets the
 * request through with the chosen answer headers, 401/403 deny, a timeout refuses with 503 by default (fails closed)
 * or lets through with `failureMode: open`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

describe('external auth', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  let auth: TestUpstream;
  before(async () => {
    auth = await startUpstream('auth', (req, res) => {
      const cookie = req.headers.cookie ?? '';
      if (req.url !== '/check') return false;
      if (cookie.includes('session=slow')) return new Promise<boolean>(() => {}); // never answers
      const status = cookie.includes('session=good') ? 200 : cookie.includes('session=banned') ? 403 : 401;
      res.writeHead(
        status,
        status === 200 ? { 'x-auth-request-user': 'carol', 'x-auth-request-email': 'c@x.test' } : {},
      );
      res.end(
        JSON.stringify({ seen: { uri: req.headers['x-original-uri'], method: req.headers['x-original-method'] } }),
      );
      return true;
    });
    up = await startUpstream('model');
    const provider = (name: string, failureMode: string) =>
      `      - name: ${name}\n        external: {url: "${auth.origin}/check", forwardHeaders: [cookie], copyHeaders: [x-auth-request-email], timeout: 300ms, failureMode: ${failureMode}}\n`;
    gw = await startGateway({
      'gw.yaml': `apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  auth:\n    providers:\n${provider('sso', 'closed')}${provider('sso-open', 'open')}`,
      'closed.yaml': modelApiYaml(
        'closed',
        'openapi',
        [{ name: 'v1', url: up.origin }],
        '  auth: {providers: [sso]}\n',
      ),
      'open.yaml': modelApiYaml(
        'open',
        'openapi',
        [{ name: 'v1', url: up.origin }],
        '  auth: {providers: [sso-open]}\n',
      ),
    });
  });
  after(async () => {
    await gw.stop();
    await up.close();
    await auth.close();
  });
  const as = (api: string, session: string) =>
    call(`${gw.url}/models/${api}/predict?x=1`, { body: '{}', headers: { cookie: `session=${session}` } });

  it('lets a request the auth service accepts through, with the chosen answer headers and the subject', async () => {
    const res = await as('closed', 'good');
    assert.equal(res.status, 200);
    const seen = up.seen.at(-1)!;
    assert.equal(seen.headers['x-modelgate-subject'], 'carol');
    assert.equal(seen.headers['x-auth-request-email'], 'c@x.test');
    const asked = auth.seen.at(-1)!;
    assert.equal(asked.headers['x-original-uri'], '/models/closed/predict?x=1');
    assert.equal(asked.headers['x-original-method'], 'POST');
  });

  it('denies what the auth service denies', async () => {
    assert.equal((await as('closed', 'none')).status, 401);
    assert.equal((await as('closed', 'banned')).status, 403);
  });

  it('fails closed with 503 on a timeout by default, open when configured', async () => {
    const closed = await as('closed', 'slow');
    assert.equal(closed.status, 503);
    assert.equal((closed.json() as { code: string }).code, 'MG-503-AUTH-UNAVAILABLE');
    const open = await as('open', 'slow');
    assert.equal(open.status, 200);
  });
});
