/**
 * The portal compresses what it serves when the client accepts it: documents and the Swagger UI / ReDoc bundles go
 * out with brotli (preferred) or gzip, decompress to exactly the uncompressed representation, carry their own entity
 * tag (a 304 for it), `Vary: Accept-Encoding`; `identity`, q=0 and small bodies go uncompressed. Decompressed with
 * node:zlib, not the code under test.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { negotiate } from '../../src/docsplane/compression.ts';
import { modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/** A raw GET (fetch would decompress by itself). */
function get(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('compressed documents and assets', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    upstream = await startUpstream('m');
    gw = await startGateway({
      'm.yaml': modelApiYaml('iris', 'open-inference-v2', [{ name: 'v1', url: upstream.origin }]),
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  for (const path of [
    '/openapi.json',
    '/openapi.yaml',
    '/docs-assets/swagger-ui-bundle.js',
    '/docs-assets/redoc.standalone.js',
  ]) {
    it(`${path}: brotli and gzip decompress to the plain body, each with its own entity tag`, async () => {
      const plain = await get(`${gw.url}${path}`, {});
      assert.equal(plain.status, 200);
      assert.equal(plain.headers['content-encoding'], undefined);
      const br = await get(`${gw.url}${path}`, { 'accept-encoding': 'gzip, deflate, br' });
      assert.equal(br.headers['content-encoding'], 'br');
      assert.equal(br.headers.vary, 'accept-encoding');
      assert.deepEqual(brotliDecompressSync(br.body), plain.body);
      assert.ok(br.body.length < plain.body.length / 2, `${br.body.length} of ${plain.body.length}`);
      const gz = await get(`${gw.url}${path}`, { 'accept-encoding': 'gzip' });
      assert.equal(gz.headers['content-encoding'], 'gzip');
      assert.deepEqual(gunzipSync(gz.body), plain.body);
      assert.notEqual(br.headers.etag, plain.headers.etag);
      assert.notEqual(br.headers.etag, gz.headers.etag);
      const again = await get(`${gw.url}${path}`, {
        'accept-encoding': 'br',
        'if-none-match': String(br.headers.etag),
      });
      assert.equal(again.status, 304);
    });
  }

  it('negotiates like HTTP says: q-values, q=0 refuses, identity and small bodies stay plain', () => {
    const big = 10_000;
    assert.equal(negotiate('gzip;q=1, br;q=0.5', 'application/json', big), 'gzip');
    assert.equal(negotiate('br;q=0, gzip', 'application/json', big), 'gzip');
    assert.equal(negotiate('identity', 'application/json', big), undefined);
    assert.equal(negotiate('br', 'application/json', 100), undefined);
    assert.equal(negotiate('br', 'image/png', big), undefined);
    assert.equal(negotiate(undefined, 'application/json', big), undefined);
  });
});
