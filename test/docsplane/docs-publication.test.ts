/**
 * The published documents and the portal, through a real gateway in front of the three example model servers:
 * URL scheme, YAML, strong ETags and 304s, HEAD, problem+json for wrong methods and unknown documents, every
 * document valid OpenAPI 3.1, a portal under a path prefix, reserved portal paths, and live updates within 2 s of a
 * file change or an upstream API change.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { parse } from 'yaml';
import { chatHandler } from '../../examples/servers/chat-openai-server.ts';
import { startServer } from '../../examples/servers/http-util.ts';
import { irisHandler } from '../../examples/servers/iris-v2-server.ts';
import { sentimentHandler } from '../../examples/servers/sentiment-rest-server.ts';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { assertLintClean } from '../helpers/linters.ts';
import { startUpstream } from '../helpers/upstream.ts';

type Doc = { paths: Record<string, Record<string, { operationId?: string }>>; info: { version: string } } & Record<
  string,
  unknown
>;

/** Valid OpenAPI 3.1, and clean under both independent linters (Redocly `recommended`, Spectral `spectral:oas`). */
async function assertValid(document: unknown, label = 'document'): Promise<void> {
  const result = await validate(structuredClone(document) as never);
  assert.ok(result.valid, compileErrors(result));
  await assertLintClean(document, label);
}

describe('published documents', () => {
  let gw: TestGateway;
  const servers: { server: import('node:http').Server; port: number }[] = [];
  before(async () => {
    servers.push(
      await startServer(irisHandler('iris')),
      await startServer(chatHandler('tiny-chat', 1)),
      await startServer(sentimentHandler()),
    );
    const [iris, chat, sentiment] = servers.map((s) => `http://127.0.0.1:${s.port}`);
    gw = await startGateway({
      'iris.yaml': modelApiYaml(
        'iris',
        'open-inference-v2',
        [
          { name: 'v1', url: iris!, weight: 80 },
          { name: 'v2', url: iris!, weight: 20 },
        ],
        '  docs: {discover: true}\n',
      ),
      'chat.yaml': modelApiYaml('chat', 'openai', [{ name: 'v1', url: chat! }], '  docs: {discover: true}\n'),
      'sentiment.yaml': modelApiYaml(
        'sentiment',
        'openapi',
        [{ name: 'v1', url: sentiment! }],
        '  docs: {openAPI: {path: /openapi.json}}\n',
      ),
    });
    await eventually(async () => {
      const doc = (await call(`${gw.url}/openapi.json`)).json() as Doc;
      return ['/models/iris/infer', '/models/chat/v1/chat/completions', '/models/sentiment/predict'].every(
        (p) => doc.paths[p] !== undefined,
      );
    });
  });
  after(async () => {
    await gw.stop();
    for (const s of servers) s.server.close();
  });

  it('serves the merged document as JSON and YAML with the same content', async () => {
    const json = await call(`${gw.url}/openapi.json`);
    const yaml = await call(`${gw.url}/openapi.yaml`);
    assert.equal(json.status, 200);
    assert.equal(json.headers['content-type'], 'application/json');
    assert.equal(yaml.headers['content-type'], 'application/yaml');
    assert.deepEqual(parse(yaml.text), json.json());
    assert.notEqual(json.headers.etag, yaml.headers.etag);
    await assertValid(json.json(), '/openapi.json');
  });

  it('serves one document per model API and per version, each valid and lint-clean', async () => {
    const urls = [
      '/openapi/default/iris.json',
      '/openapi/default/iris/versions/v1.json',
      '/openapi/default/iris/versions/v2.yaml',
      '/openapi/default/chat.json',
      '/openapi/default/sentiment.json',
    ];
    for (const url of urls) {
      const res = await call(gw.url + url);
      assert.equal(res.status, 200, url);
      await assertValid(url.endsWith('.yaml') ? parse(res.text) : res.json(), url);
    }
    const v2 = (await call(`${gw.url}/openapi/default/iris/versions/v2.json`)).json() as Doc;
    assert.deepEqual(Object.keys(v2.paths).sort(), [
      '/models/iris/versions/v2',
      '/models/iris/versions/v2/infer',
      '/models/iris/versions/v2/ready',
    ]);
    const iris = (await call(`${gw.url}/openapi/default/iris.json`)).json() as Doc;
    assert.ok(iris.paths['/models/iris/infer'] && iris.paths['/models/iris/versions/v1/infer']);
    assert.equal(iris.paths['/models/chat/v1/models'], undefined, 'only its own API');
  });

  it('serves each document at the conventional paths under the API, linked from the portal with downloads', async () => {
    for (const [conventional, canonical] of [
      ['/models/iris/openapi.json', '/openapi/default/iris.json'],
      ['/models/iris/openapi.yaml', '/openapi/default/iris.yaml'],
      ['/models/iris/versions/v2/openapi.json', '/openapi/default/iris/versions/v2.json'],
      // The REST server serves its own /openapi.json (upstream paths): at the public path, the gateway's document.
      ['/models/sentiment/openapi.json', '/openapi/default/sentiment.json'],
    ] as const) {
      const a = await call(gw.url + conventional);
      const b = await call(gw.url + canonical);
      assert.equal(a.status, 200, conventional);
      assert.equal(a.text, b.text, `${conventional} is ${canonical}`);
      assert.equal(a.headers.etag, b.headers.etag);
    }
    const sentiment = (await call(`${gw.url}/models/sentiment/openapi.json`)).json() as Doc;
    assert.ok(sentiment.paths['/models/sentiment/predict'], 'public paths, not the upstream document');
    assert.equal((await call(`${gw.url}/models/iris/versions/v9/openapi.json`)).status, 404);
    const landing = (await call(`${gw.url}/portal`)).text;
    assert.match(landing, /href="models\/iris\/openapi\.json"/);
    assert.match(landing, /href="models\/iris\/versions\/v1\/openapi\.json" download="default-iris-v1\.openapi\.json"/);
    assert.match(landing, /href="openapi\/default\/chat\.json" download="default-chat\.openapi\.json"/);
  });

  it('answers 304 to a matching If-None-Match and HEAD without a body', async () => {
    const first = await call(`${gw.url}/openapi.json`);
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[A-Za-z0-9_-]{43}"$/, 'a strong ETag from the content hash');
    const again = await call(`${gw.url}/openapi.json`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.text, '');
    const weakList = await call(`${gw.url}/openapi.json`, { headers: { 'if-none-match': `"x", W/${etag}` } });
    assert.equal(weakList.status, 304);
    const head = await call(`${gw.url}/openapi.json`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal(head.headers['content-length'], String(Buffer.byteLength(first.text)));
  });

  it('answers problem+json for other methods and unknown documents', async () => {
    const post = await call(`${gw.url}/openapi.json`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    assert.equal(post.headers['content-type'], 'application/problem+json');
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal((post.json() as { code: string }).code, 'MG-405-METHOD-NOT-ALLOWED');
    for (const path of [
      '/openapi/default/nope.json',
      '/openapi/default/iris/versions/v9.json',
      '/openapi/default/iris/other/v1.json',
      '/openapi/default.json',
    ]) {
      const missing = await call(gw.url + path);
      assert.equal(missing.status, 404, path);
      assert.equal((missing.json() as { code: string }).code, 'MG-404-NO-DOCUMENT');
    }
  });

  it('serves the landing page, Swagger UI and ReDoc with relative links to assets from npm packages', async () => {
    const landing = await call(`${gw.url}/`);
    assert.equal(landing.status, 200);
    assert.match(landing.text, /iris[\s\S]*80%[\s\S]*20%/);
    assert.match(landing.text, /href="docs"/);
    const docs = await call(`${gw.url}/docs`);
    assert.match(docs.text, /src="docs-assets\/swagger-ui-bundle\.js"/);
    assert.match(docs.text, /openapi\/default\/iris\/versions\/v2\.json/);
    const redoc = await call(`${gw.url}/redoc`);
    assert.match(redoc.text, /spec-url="openapi\.json"/);
    for (const asset of ['swagger-ui-bundle.js', 'swagger-ui.css', 'redoc.standalone.js', 'swagger-init.js']) {
      const res = await call(`${gw.url}/docs-assets/${asset}`);
      assert.equal(res.status, 200, asset);
      assert.ok(res.text.length > 100, asset);
    }
    assert.doesNotMatch(docs.text + redoc.text + landing.text, /https?:\/\//, 'no absolute URL: no CDN');
  });
});

describe('portal placement', () => {
  it('moves under spec.docs.pathPrefix, an API on a portal path is refused, nothing is probed unasked', async () => {
    const up = await startUpstream('u');
    const gw = await startGateway({
      'gw.yaml':
        'apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  docs: {pathPrefix: /portal}\n',
      'a.yaml': modelApiYaml('a', 'openapi', [{ name: 'v1', url: up.origin }]),
      'b.yaml': modelApiYaml('b', 'openapi', [{ name: 'v1', url: up.origin }], '  pathPrefix: /portal/openapi\n'),
    });
    try {
      assert.equal((await call(`${gw.url}/portal/openapi.json`)).status, 200);
      assert.equal((await call(`${gw.url}/portal/docs`)).status, 200);
      const bare = await call(`${gw.url}/portal`);
      assert.equal(bare.status, 301);
      assert.equal(bare.headers.location, 'portal/');
      assert.equal((await call(`${gw.url}/openapi.json`)).status, 404, 'nothing at the root any more');
      // The conventional path stays under the API's own prefix wherever the portal is; its links climb to it.
      assert.equal((await call(`${gw.url}/models/a/openapi.json`)).status, 200);
      assert.match((await call(`${gw.url}/portal/`)).text, /href="\.\.\/models\/a\/openapi\.json"/);
      const status = gw.gateway.statuses.get('ModelAPI/default/b')!;
      const accepted = status.conditions.find((c) => c.type === 'Accepted')!;
      assert.equal(accepted.reason, 'PathConflict');
      assert.match(accepted.message, /docs portal/);
      // Neither API asked to be documented: nothing probed the service (REST APIs have no default health check).
      assert.deepEqual(up.seen, []);
    } finally {
      await gw.stop();
      await up.close();
    }
  });
});

describe('live documents', () => {
  it('shows added, changed and removed APIs and a changed upstream document within 2 seconds', async () => {
    let version = 1;
    const up = await startUpstream('rest', (req, res) => {
      if (req.url !== '/openapi.json') return false;
      const paths: Record<string, unknown> = {
        [`/predict/v${version}`]: { post: { responses: { 200: { description: 'ok' } } } },
      };
      res.writeHead(200, { 'content-type': 'application/json', etag: `"${version}"` });
      res.end(JSON.stringify({ openapi: '3.1.0', info: { title: 'rest', version: String(version) }, paths }));
      return true;
    });
    const gw = await startGateway({}, { watch: true });
    const paths = async () => Object.keys(((await call(`${gw.url}/openapi.json`)).json() as Doc).paths);
    try {
      const within2s = (check: () => Promise<boolean>) => eventually(check, 2000);
      const { writeFileSync, rmSync } = await import('node:fs');
      const { join } = await import('node:path');
      writeFileSync(
        join(gw.dir, 'rest.yaml'),
        modelApiYaml(
          'rest',
          'openapi',
          [{ name: 'v1', url: up.origin }],
          '  docs: {discover: true, refreshInterval: 500ms}\n',
        ),
      );
      await within2s(async () => (await paths()).includes('/models/rest/predict/v1'));
      version = 2; // the model server changes its API
      await within2s(async () => (await paths()).includes('/models/rest/predict/v2'));
      writeFileSync(
        join(gw.dir, 'rest.yaml'),
        modelApiYaml(
          'rest',
          'openapi',
          [{ name: 'v1', url: up.origin }],
          '  pathPrefix: /rest\n  docs: {discover: true, refreshInterval: 500ms}\n',
        ),
      );
      await within2s(async () => (await paths()).includes('/rest/predict/v2'));
      rmSync(join(gw.dir, 'rest.yaml'));
      await within2s(async () => (await paths()).length === 0);
    } finally {
      await gw.stop();
      await up.close();
    }
  });
});
