/**
 * Per-version upstream headers (issue 23: upstream credentials; issue 25: Seldon's `seldon-model`): set on every
 * request to the version, from the ModelAPI and from a Secret; the client's own header of that name never reaches the
 * model; the credential never shows in /config or in the published documents (which then ask clients for the
 * gateway's credentials, or none); a rotated Secret applies without a restart; a missing Secret refuses the version's
 * requests (500) instead of sending them without credentials, and says so in status.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiKeyGatewayYaml, call, eventually, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

const KEY = 'client-key-0123456789';
const secretYaml = (token: string) =>
  `apiVersion: v1\nkind: Secret\nmetadata: {name: hosted-creds}\nstringData: {authorization: "Bearer ${token}"}\n`;

describe('upstream credentials and headers per version', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let expected = 'upstream-token-AAAA1111';
  before(async () => {
    up = await startUpstream('hosted', (req, res) => {
      // A hosted endpoint: only its own key opens it.
      const ok = req.headers.authorization === `Bearer ${expected}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { object: 'list', data: [] } : { error: 'bad key' }));
      return true;
    });
    const api = (name: string, versionExtra: string, extra: string) =>
      `apiVersion: modelgate.dev/v1alpha1\nkind: ModelAPI\nmetadata: {name: ${name}}\nspec:\n  protocol: openai\n  versions:\n    - name: v1\n      backend: {url: "${up.origin}"}\n${versionExtra}${extra}`;
    const headers = '      requestHeaders:\n        set: {seldon-model: iris}\n        secret: {name: hosted-creds}\n';
    gw = await startGateway({
      'gw.yaml': apiKeyGatewayYaml(KEY),
      'creds.yaml': secretYaml(expected),
      'hosted.yaml': api(
        'hosted',
        headers,
        `  auth: {providers: [keys]}\n  healthCheck: {active: {enabled: false}}\n  docs: {openAPI: {inline: {openapi: 3.1.0, info: {title: h, version: '1'}, security: [{bearer: []}], components: {securitySchemes: {bearer: {type: http, scheme: bearer}}}, paths: {/v1/models: {get: {responses: {'200': {description: ok}}}}}}}}\n`,
      ),
      'open.yaml': api(
        'open',
        headers,
        `  healthCheck: {active: {enabled: false}}\n  docs: {openAPI: {inline: {openapi: 3.1.0, info: {title: o, version: '1'}, security: [{bearer: []}], components: {securitySchemes: {bearer: {type: http, scheme: bearer}}}, paths: {/v1/models: {get: {responses: {'200': {description: ok}}}}}}}}\n`,
      ),
      'missing.yaml': api('missing', '      requestHeaders: {secret: {name: nowhere}}\n', ''),
    });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  it('sets the headers; the client’s own Authorization and API key never reach the model', async () => {
    up.seen.length = 0;
    const res = await call(`${gw.url}/models/hosted/v1/models`, {
      headers: { 'x-api-key': KEY, authorization: 'Bearer the-clients-own-token' },
    });
    assert.equal(res.status, 200, res.text);
    const seen = up.seen.find((r) => r.url === '/v1/models' && r.headers['seldon-model'] !== undefined)!;
    assert.equal(seen.headers.authorization, `Bearer ${expected}`);
    assert.equal(seen.headers['seldon-model'], 'iris');
    assert.equal(seen.headers['x-api-key'], undefined);
    assert.doesNotMatch(JSON.stringify(seen.headers), /the-clients-own-token/);
  });

  it('keeps the credential out of /config and out of the published documents', async () => {
    const config = (await call(`${gw.adminUrl}/config`)).text;
    assert.doesNotMatch(config, new RegExp(expected));
    const merged = (await call(`${gw.url}/openapi.json`)).text;
    assert.doesNotMatch(merged, new RegExp(expected));
    type Doc = { paths: Record<string, { get: { security: unknown } }>; components?: { securitySchemes?: object } };
    const hosted = (await call(`${gw.url}/openapi/default/hosted.json`)).json() as Doc;
    assert.deepEqual(hosted.paths['/models/hosted/v1/models']!.get.security, [{ keys: [] }], "the gateway's key");
    const open = (await call(`${gw.url}/openapi/default/open.json`)).json() as Doc;
    assert.deepEqual(open.paths['/models/open/v1/models']!.get.security, [], 'the gateway brings the credential');
    assert.equal(open.components?.securitySchemes, undefined, "the upstream's bearer scheme is not asked of clients");
  });

  it('applies a rotated Secret without a restart', async () => {
    expected = 'upstream-token-BBBB2222';
    await gw.write('creds.yaml', secretYaml(expected));
    await eventually(async () => (await call(`${gw.url}/models/open/v1/models`)).status === 200, 5000);
  });

  it('refuses the requests of a version whose Secret is missing, and says so in status', async () => {
    const res = await call(`${gw.url}/models/missing/v1/models`);
    assert.equal(res.status, 500);
    assert.equal((res.json() as { code: string }).code, 'MG-500-ROUTE-INVALID');
    const refs = gw.gateway.statuses.get('ModelAPI/default/missing')?.conditions.find((c) => c.type === 'ResolvedRefs');
    assert.equal(refs?.status, 'False');
    assert.equal(refs?.reason, 'SecretNotFound');
    assert.match(refs?.message ?? '', /Secret\/default\/nowhere/);
  });
});
