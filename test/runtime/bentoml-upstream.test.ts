/**
 * BentoML behind the gateway (issue 25, point 2), against a stand-in serving the document BentoML generates for an
 * iris classifier (test/fixtures/upstream/bentoml, with how it was derived) and answering like BentoML's HTTP app
 * (test/helpers/standins/bentoml.ts). `docs.discover` finds `/docs.json` (after `/openapi.json` is not there); the
 * OpenAPI 3.0.2 document — with BentoML's `type: file` component schemas — becomes valid, lint-clean 3.1; the JSON
 * and the multipart/file APIs are published as BentoML describes them and answer 2xx through the gateway; health
 * uses BentoML's `/readyz`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { normalizeTo31 } from '../../src/openapi/normalize-31.ts';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { assertLintClean } from '../helpers/linters.ts';
import { type BentoMLStandIn, startBentoML } from '../helpers/standins/bentoml.ts';

type Json = Record<string, unknown>;
type Doc = {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Json }> } }>>;
};

describe('BentoML upstream (stand-in, its generated document)', () => {
  let bento: BentoMLStandIn;
  let gw: TestGateway;
  const condition = (type: string) =>
    gw.gateway.statuses.get('ModelAPI/default/iris-bento')?.conditions.find((c) => c.type === type);

  before(async () => {
    bento = await startBentoML();
    gw = await startGateway({
      'iris.yaml': modelApiYaml(
        'iris-bento',
        'openapi',
        [{ name: 'v1', url: bento.origin }],
        '  docs: {discover: true}\n  healthCheck: {active: {path: /readyz, interval: 1s}}\n',
      ),
    });
    await eventually(() => /docs\.json/.test(condition('Documented')?.message ?? ''), 10_000);
  });
  after(async () => {
    await gw?.stop();
    await bento?.close();
  });

  it('discovers /docs.json and publishes it as valid, lint-clean 3.1, the multipart file as BentoML describes it', async () => {
    assert.ok(bento.seen.includes('GET /openapi.json') && bento.seen.includes('GET /docs.json'));
    const doc = (await call(`${gw.url}/openapi.json`)).json() as Doc;
    assert.deepEqual(
      Object.keys(doc.paths)
        .filter((p) => p.startsWith('/models/iris-bento'))
        .sort(),
      [
        '/models/iris-bento/classify',
        '/models/iris-bento/classify_photo',
        '/models/iris-bento/healthz',
        '/models/iris-bento/livez',
        '/models/iris-bento/metrics',
        '/models/iris-bento/readyz',
      ],
    );
    const result = await validate(structuredClone(doc) as never);
    assert.ok(result.valid, compileErrors(result));
    await assertLintClean(doc, 'BentoML as published');
    const photo = doc.paths['/models/iris-bento/classify_photo']!.post!.requestBody!.content['multipart/form-data'];
    assert.deepEqual((photo!.schema.properties as Json).image, {
      type: 'string',
      title: 'Image',
      contentMediaType: 'application/octet-stream',
    });
    assert.equal(condition('Documented')?.status, 'True');
  });

  it('repairs the component schemas BentoML writes with `type: file`: invalid as published, valid after', async () => {
    const published = JSON.parse(
      readFileSync(new URL('../fixtures/upstream/bentoml/iris-classifier.docs.json', import.meta.url), 'utf8'),
    ) as Json;
    const before = await validate(structuredClone(published) as never);
    assert.equal(before.valid, false, 'BentoML’s own document does not validate');
    const { document, errors } = normalizeTo31(published);
    assert.deepEqual(errors, []);
    const after = await validate(structuredClone(document) as never);
    assert.ok(after.valid, compileErrors(after));
    const input = (document.components as { schemas: Record<string, Json> }).schemas.classify_photo__Input!;
    assert.deepEqual((input.properties as Json).image, {
      type: 'string',
      title: 'Image',
      contentMediaType: 'application/octet-stream',
    });
  });

  it('answers every documented operation 2xx through the gateway, JSON and multipart alike', async () => {
    const doc = (await call(`${gw.url}/openapi.json`)).json() as Doc;
    const bodies: Record<string, { body: string | Buffer; type: string }> = {
      classify: { body: JSON.stringify({ features: [[5.1, 3.5, 1.4, 0.2]] }), type: 'application/json' },
      classify_photo: {
        body: Buffer.from(
          '--b0\r\ncontent-disposition: form-data; name="image"; filename="iris.png"\r\ncontent-type: image/png\r\n\r\n\x89PNG\r\n--b0--\r\n',
          'latin1',
        ),
        type: 'multipart/form-data; boundary=b0',
      },
    };
    let called = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith('/models/iris-bento/')) continue;
      for (const method of Object.keys(item)) {
        const api = path.split('/').pop()!;
        const payload = method === 'post' ? bodies[api] : undefined;
        const res = await call(`${gw.url}${path}`, {
          method: method.toUpperCase(),
          ...(payload ? { body: payload.body, headers: { 'content-type': payload.type } } : {}),
        });
        assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
        called++;
      }
    }
    assert.equal(called, 6);
    assert.equal(
      (await call(`${gw.url}/models/iris-bento/classify`, { body: bodies.classify!.body as string })).text,
      '[0]',
    );
  });

  it("checks health with BentoML's /readyz", async () => {
    await eventually(() => condition('Ready')?.status === 'True', 5000);
    assert.ok(bento.seen.includes('GET /readyz'));
  });
});
