/**
 * Traffic policies through a real gateway: API keys from Secrets (401 without or with a wrong key, 403 for an
 * identity not on the allow-list, the identity forwarded and the key never, query-parameter keys, rotation without a
 * restart), CORS (preflights answered by the gateway, headers on answers and on problems), and both reflected in the
 * published document. Key hashes never appear at /config.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

const gatewayYaml = `apiVersion: modelgate.dev/v1alpha1
kind: ModelGateway
metadata: {name: gw}
spec:
  auth:
    providers:
      - name: team-keys
        apiKey: {secrets: [{name: api-keys}], query: api_key}
`;
const inlineDoc =
  '  docs: {openAPI: {inline: {openapi: 3.1.0, info: {title: m, version: "1"}, paths: {/predict: {post: {operationId: predict, responses: {"200": {description: ok}}}}}}}}\n';
const secretYaml = (keys: Record<string, string>) =>
  `apiVersion: v1\nkind: Secret\nmetadata: {name: api-keys}\nstringData:\n${Object.entries(keys)
    .map(([k, v]) => `  ${k}: ${v}`)
    .join('\n')}\n`;

describe('policies: API keys and CORS', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  before(async () => {
    up = await startUpstream('model');
    gw = await startGateway(
      {
        'gw.yaml': gatewayYaml,
        'secret.yaml': secretYaml({ alice: 'key-alice-0001', bob: 'key-bob-0002' }),
        'private.yaml': modelApiYaml(
          'private',
          'openapi',
          [{ name: 'v1', url: up.origin }],
          `  auth: {providers: [team-keys], allow: {subjects: [alice]}}\n  cors: {allowOrigins: ["https://app.example.com"]}\n${inlineDoc}`,
        ),
        'public.yaml': modelApiYaml('public', 'openapi', [{ name: 'v1', url: up.origin }], inlineDoc),
      },
      { watch: true },
    );
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  it('answers 401 with a challenge without a key or with a wrong one, 403 for someone not allowed', async () => {
    const none = await call(`${gw.url}/models/private/predict`, { body: '{}' });
    assert.equal(none.status, 401);
    assert.equal(none.headers['content-type'], 'application/problem+json');
    assert.equal(none.headers['www-authenticate'], 'ApiKey header="x-api-key"');
    assert.equal((none.json() as { code: string }).code, 'MG-401-UNAUTHENTICATED');
    const wrong = await call(`${gw.url}/models/private/predict`, { body: '{}', headers: { 'x-api-key': 'nope' } });
    assert.equal(wrong.status, 401);
    assert.match((wrong.json() as { detail: string }).detail, /not valid/);
    const bob = await call(`${gw.url}/models/private/predict`, {
      body: '{}',
      headers: { 'x-api-key': 'key-bob-0002' },
    });
    assert.equal(bob.status, 403);
    assert.equal((bob.json() as { code: string }).code, 'MG-403-FORBIDDEN');
    assert.equal(up.seen.length, 0, 'nothing reached the model');
  });

  it('lets a valid key through, forwards the identity and never the key; a query-parameter key works too', async () => {
    const ok = await call(`${gw.url}/models/private/predict`, {
      body: '{}',
      headers: { 'x-api-key': 'key-alice-0001', 'x-modelgate-subject': 'forged' },
    });
    assert.equal(ok.status, 200);
    const seen = up.seen.at(-1)!;
    assert.equal(seen.headers['x-modelgate-subject'], 'alice');
    assert.equal(seen.headers['x-api-key'], undefined);
    const viaQuery = await call(`${gw.url}/models/private/predict?a=1&api_key=key-alice-0001&x=%2F`, { body: '{}' });
    assert.equal(viaQuery.status, 200);
    // The query form of the credential stays in the gateway like the header form; the other parameters keep their bytes.
    assert.equal(up.seen.at(-1)!.url, '/predict?a=1&x=%2F');
    assert.equal(up.seen.at(-1)!.headers['x-modelgate-subject'], 'alice');
    // … in any spelling a server would read as the same name, and also when the header authenticated.
    for (const query of ['api%5Fkey=key-alice-0001&b=2', 'b=2&api_key=wrong', 'b=2&api_key']) {
      const r = await call(`${gw.url}/models/private/predict?${query}`, {
        body: '{}',
        headers: { 'x-api-key': 'key-alice-0001' },
      });
      assert.equal(r.status, 200);
      assert.equal(up.seen.at(-1)!.url, '/predict?b=2', query);
    }
    const open = await call(`${gw.url}/models/public/predict`, {
      body: '{}',
      headers: { 'x-modelgate-subject': 'forged' },
    });
    assert.equal(open.status, 200);
    assert.equal(up.seen.at(-1)!.headers['x-modelgate-subject'], undefined, 'a client cannot claim an identity');
  });

  it('answers CORS preflights and adds CORS headers to answers and problems', async () => {
    const preflight = await call(`${gw.url}/models/private/predict`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.match(String(preflight.headers['access-control-allow-headers']), /x-api-key/);
    const refused = await call(`${gw.url}/models/private/predict`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(refused.headers['access-control-allow-origin'], undefined);
    const problem = await call(`${gw.url}/models/private/predict`, {
      body: '{}',
      headers: { origin: 'https://app.example.com' },
    });
    assert.equal(problem.status, 401);
    assert.equal(problem.headers['access-control-allow-origin'], 'https://app.example.com');
  });

  it('documents the security scheme, the requirement and the 401/403 answers of protected APIs only', async () => {
    const doc = (await call(`${gw.url}/openapi.json`)).json() as {
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>;
    };
    assert.deepEqual(doc.components.securitySchemes['team-keys'], {
      type: 'apiKey',
      in: 'header',
      name: 'x-api-key',
      description: 'API key of the team-keys provider (also accepted as the `api_key` query parameter).',
    });
    const privateOp = doc.paths['/models/private/predict']!.post!;
    assert.deepEqual(privateOp.security, [{ 'team-keys': [] }]);
    assert.ok(privateOp.responses['401'] && privateOp.responses['403']);
    const publicOp = doc.paths['/models/public/predict']!.post!;
    assert.deepEqual(publicOp.security, [], 'a public API says explicitly that it needs no credentials');
    assert.equal(publicOp.responses['401'], undefined);
    const config = (await call(`${gw.adminUrl}/config`)).text;
    assert.ok(!config.includes(require256('key-alice-0001')), 'no key hash at /config');
    assert.match(config, /2 key\(s\)/);
  });

  it('rotates keys without a restart', async () => {
    await gw.write('secret.yaml', secretYaml({ alice: 'key-alice-0003' }));
    await eventually(
      async () =>
        (await call(`${gw.url}/models/private/predict`, { body: '{}', headers: { 'x-api-key': 'key-alice-0003' } }))
          .status === 200,
    );
    const old = await call(`${gw.url}/models/private/predict`, {
      body: '{}',
      headers: { 'x-api-key': 'key-alice-0001' },
    });
    assert.equal(old.status, 401);
  });
});

function require256(value: string): string {
  return (process.getBuiltinModule('node:crypto') as typeof import('node:crypto'))
    .createHash('sha256')
    .update(value)
    .digest('hex');
}

describe('policies: local rate limit', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  before(async () => {
    up = await startUpstream('model');
    gw = await startGateway({
      'gw.yaml': gatewayYaml,
      'secret.yaml': secretYaml({ alice: 'key-alice-0001', bob: 'key-bob-0002' }),
      'limited.yaml': modelApiYaml(
        'limited',
        'openapi',
        [{ name: 'v1', url: up.origin }],
        `  auth: {providers: [team-keys]}\n  rateLimit: {requests: 3, per: 1h}\n${inlineDoc}`,
      ),
      // Nothing listens on port 1: every call is answered by the gateway itself (502/503).
      'down.yaml': modelApiYaml(
        'down',
        'openapi',
        [{ name: 'v1', url: 'http://127.0.0.1:1' }],
        '  rateLimit: {requests: 5, per: 1h}\n',
      ),
    });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  it('gives each subject its own bucket, answers 429 with Retry-After and the RateLimit headers', async () => {
    const as = (key: string) => call(`${gw.url}/models/limited/predict`, { body: '{}', headers: { 'x-api-key': key } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await as('key-alice-0001')).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const limited = await as('key-alice-0001');
    assert.equal(limited.status, 429);
    assert.equal((limited.json() as { code: string }).code, 'MG-429-RATE-LIMITED');
    assert.equal(limited.headers['ratelimit-policy'], '"default";q=3;w=3600');
    assert.match(String(limited.headers.ratelimit), /^"default";r=0;t=\d+$/);
    assert.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 1200);
    const bob = await as('key-bob-0002');
    assert.equal(bob.status, 200, 'another subject has its own budget');
    assert.equal(bob.headers.ratelimit, '"default";r=2;t=0');
    assert.equal(up.seen.length, 4, 'refused requests never reach the model');
  });

  it('puts the RateLimit headers on answers the gateway makes itself too', async () => {
    const res = await call(`${gw.url}/models/down/predict`, { body: '{}' });
    assert.ok(res.status === 502 || res.status === 503, `${res.status}`);
    assert.equal(res.headers['content-type'], 'application/problem+json');
    assert.equal(res.headers['ratelimit-policy'], '"default";q=5;w=3600');
    assert.equal(res.headers.ratelimit, '"default";r=4;t=0');
  });

  it('keeps the buckets across a reload that does not change the limit, and documents 429', async () => {
    // A real recompile (another file changes); the limit itself does not change.
    await gw.write('other.yaml', modelApiYaml('other', 'openapi', [{ name: 'v1', url: up.origin }]));
    assert.ok(gw.gateway.dataPlane.current!.apis.some((a) => a.name === 'other'));
    assert.equal(
      (await call(`${gw.url}/models/limited/predict`, { body: '{}', headers: { 'x-api-key': 'key-alice-0001' } }))
        .status,
      429,
    );
    const doc = (await call(`${gw.url}/openapi.json`)).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    assert.ok(doc.paths['/models/limited/predict']!.post!.responses['429']);
  });
});

describe('policies: client address lists', () => {
  it('refuses denied addresses and admits only allowed ranges, with 403 before anything else', async () => {
    const up = await startUpstream('model');
    const gw = await startGateway({
      'denied.yaml': modelApiYaml(
        'denied',
        'openapi',
        [{ name: 'v1', url: up.origin }],
        '  ipAccess: {deny: [127.0.0.0/8]}\n',
      ),
      'allowed.yaml': modelApiYaml(
        'allowed',
        'openapi',
        [{ name: 'v1', url: up.origin }],
        '  ipAccess: {allow: [127.0.0.1, "::1"]}\n',
      ),
      'elsewhere.yaml': modelApiYaml(
        'elsewhere',
        'openapi',
        [{ name: 'v1', url: up.origin }],
        '  ipAccess: {allow: [10.0.0.0/8]}\n',
      ),
    });
    try {
      const denied = await call(`${gw.url}/models/denied/x`);
      assert.equal(denied.status, 403);
      assert.match((denied.json() as { detail: string }).detail, /client address/);
      assert.equal((await call(`${gw.url}/models/allowed/x`)).status, 200);
      assert.equal((await call(`${gw.url}/models/elsewhere/x`)).status, 403);
      assert.equal(up.seen.length, 1);
    } finally {
      await gw.stop();
      await up.close();
    }
  });
});

describe('policies: protected docs', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  before(async () => {
    up = await startUpstream('model');
    gw = await startGateway({
      'gw.yaml': `${gatewayYaml}  docs: {auth: {providers: [team-keys], allow: {subjects: [alice]}}}\n`,
      'secret.yaml': secretYaml({ alice: 'key-alice-0001', bob: 'key-bob-0002' }),
      'public.yaml': modelApiYaml('public', 'openapi', [{ name: 'v1', url: up.origin }], inlineDoc),
    });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  it('asks for credentials on every docs page and document, and serves them to an allowed caller', async () => {
    for (const path of ['/openapi.json', '/docs', '/redoc', '/portal', '/openapi/default/public.yaml']) {
      const anonymous = await call(`${gw.url}${path}`);
      assert.equal(anonymous.status, 401, path);
      assert.equal((anonymous.json() as { code: string }).code, 'MG-401-UNAUTHENTICATED');
      const allowed = await call(`${gw.url}${path}?api_key=key-alice-0001`);
      assert.equal(allowed.status, 200, path);
    }
    const page = (await call(`${gw.url}/docs?api_key=key-alice-0001`)).text;
    const asset = /src="([^"]*docs-assets\/[^"]+)"/.exec(page)?.[1];
    assert.ok(asset, 'the page loads its assets from /docs-assets/');
    const assetAnonymous = await call(new URL(asset, `${gw.url}/docs`).href);
    assert.equal(assetAnonymous.status, 200, 'the public UI bundles need no credentials');
    const bob = await call(`${gw.url}/openapi.json`, { headers: { 'x-api-key': 'key-bob-0002' } });
    assert.equal(bob.status, 403);
    const model = await call(`${gw.url}/models/public/predict`, { body: '{}' });
    assert.equal(model.status, 200, 'model APIs keep their own policies');
    const metrics = (await call(`${gw.adminUrl}/metrics`)).text;
    assert.match(metrics, /modelgate_policy_rejections_total\{namespace="",api="",policy="docs-auth"\} [1-9]/);
  });
});

describe('policies: one Secret per key, with identity and metadata', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  const keySecret = (name: string, key: string, annotations: Record<string, string>) =>
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\n  labels: {modelgate.dev/api-key: tenant}\n  annotations: {${Object.entries(
      annotations,
    )
      .map(([k, v]) => `${k}: "${v}"`)
      .join(', ')}}\nstringData: {api-key: ${key}}\n`;
  before(async () => {
    up = await startUpstream('model');
    gw = await startGateway(
      {
        'gw.yaml': `apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  auth:\n    providers:\n      - name: tenants\n        apiKey: {secretSelector: {matchLabels: {modelgate.dev/api-key: tenant}}}\n`,
        'acme.yaml': keySecret('acme-key', 'acme-secret-1', {
          'modelgate.dev/subject': 'acme',
          'modelgate.dev/groups': 'paying, eu',
          'key.modelgate.dev/tier': 'gold',
        }),
        'trial.yaml': keySecret('trial-key', 'trial-secret-1', {}),
        'api.yaml': modelApiYaml(
          'tenanted',
          'openapi',
          [{ name: 'v1', url: up.origin }],
          '  auth: {providers: [tenants], allow: {groups: [paying]}}\n',
        ),
      },
      { watch: true },
    );
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  it('forwards the subject and the key metadata, drops forged identity headers, and checks groups', async () => {
    const ok = await call(`${gw.url}/models/tenanted/predict`, {
      body: '{}',
      headers: { 'x-api-key': 'acme-secret-1', 'x-modelgate-key-plan': 'forged', 'x-modelgate-key-tier': 'forged' },
    });
    assert.equal(ok.status, 200);
    const seen = up.seen.at(-1)!.headers;
    assert.equal(seen['x-modelgate-subject'], 'acme');
    assert.equal(seen['x-modelgate-key-tier'], 'gold');
    assert.equal(seen['x-modelgate-key-plan'], undefined, 'identity headers come from the gateway only');
    const trial = await call(`${gw.url}/models/tenanted/predict`, {
      body: '{}',
      headers: { 'x-api-key': 'trial-secret-1' },
    });
    assert.equal(trial.status, 403, 'the trial key (subject trial-key) is in no allowed group');
    assert.match((trial.json() as { detail: string }).detail, /trial-key/);
  });

  it('takes a new key Secret into use without touching the provider', async () => {
    const newKey = () =>
      call(`${gw.url}/models/tenanted/predict`, { body: '{}', headers: { 'x-api-key': 'globex-1' } });
    assert.equal((await newKey()).status, 401);
    await gw.write('globex.yaml', keySecret('globex-key', 'globex-1', { 'modelgate.dev/groups': 'paying' }));
    assert.equal((await newKey()).status, 200);
    assert.equal(up.seen.at(-1)!.headers['x-modelgate-subject'], 'globex-key');
  });
});
