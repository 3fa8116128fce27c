/**
 * The response cache through a real gateway: a repeated request (even with its JSON keys reordered) is answered from
 * the cache with `X-Cache: HIT` and `Age`, the model called once; `Cache-Control: no-cache` goes to the model;
 * errors, streamed answers and answers above the size limit are never stored; identical concurrent requests share
 * one upstream call; versions never share entries; two gateways share entries through a real Redis.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { requireSystemPackages } from '../helpers/system-packages.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

const json = { 'content-type': 'application/json' };

describe('response cache in memory', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  before(async () => {
    up = await startUpstream('model', (req, res, body) => {
      if (req.url?.includes('/big')) {
        res.writeHead(200, json);
        res.end(JSON.stringify({ blob: 'x'.repeat(4096) }));
        return true;
      }
      if (req.url?.includes('/private')) {
        res.writeHead(200, { ...json, 'cache-control': 'private' });
        res.end('{}');
        return true;
      }
      if (req.url?.includes('/predict')) {
        // The answer names the call's sequence number, so a cached answer is recognisable.
        const delay = req.url.includes('slow') ? 150 : 0;
        setTimeout(() => {
          res.writeHead(200, json);
          res.end(JSON.stringify({ call: up.seen.length, echo: body }));
        }, delay);
        return true;
      }
      return false;
    });
    gw = await startGateway({
      'api.yaml': modelApiYaml(
        'cached',
        'openapi',
        [
          { name: 'v1', url: up.origin, weight: 100 },
          { name: 'v2', url: up.origin, weight: 0 },
        ],
        '  cache: {ttl: 1m, maxEntryBytes: 1024}\n',
      ),
    });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    call(`${gw.url}/models/cached/${path}`, { body, headers: { ...json, ...headers } });

  it('answers a repeated request from the cache, whatever the order of its JSON keys', async () => {
    const first = await post('predict', '{"a": 1, "b": [1, 2]}');
    assert.equal(first.status, 200);
    assert.equal(first.headers['x-cache'], 'MISS');
    const second = await post('predict', '{"b":[1,2],"a":1}');
    assert.equal(second.headers['x-cache'], 'HIT');
    assert.equal(second.text, first.text, 'the stored answer');
    assert.equal(second.headers['x-model-version'], 'v1');
    assert.match(String(second.headers.age), /^\d+$/);
    assert.notEqual(second.headers['x-request-id'], first.headers['x-request-id']);
    assert.equal(up.seen.filter((r) => r.url.endsWith('/predict')).length, 1, 'the model was called once');
    const other = await post('predict', '{"a": 2}');
    assert.equal(other.headers['x-cache'], 'MISS', 'another body is another entry');
  });

  it('goes to the model for Cache-Control: no-cache and stores the fresh answer', async () => {
    const fresh = await post('predict', '{"fresh": true}');
    const again = await post('predict', '{"fresh": true}', { 'cache-control': 'no-cache' });
    assert.equal(again.headers['x-cache'], 'MISS');
    assert.notEqual(again.text, fresh.text);
    const third = await post('predict', '{"fresh": true}');
    assert.equal(third.headers['x-cache'], 'HIT');
    assert.equal(third.text, again.text);
  });

  it('keeps versions apart', async () => {
    const v1 = await post('predict', '{"version": "?"}');
    const v2 = await post('predict', '{"version": "?"}', { 'x-model-version': 'v2' });
    assert.equal(v2.headers['x-cache'], 'MISS');
    assert.equal(v2.headers['x-model-version'], 'v2');
    assert.notEqual(v2.text, v1.text);
  });

  it('never stores errors, private answers, streams or answers above the size limit', async () => {
    for (const path of ['status/500', 'private', 'big', 'sse/2/1']) {
      const a = await post(path, '{}');
      const b = await post(path, '{}');
      assert.equal(b.headers['x-cache'], 'MISS', `${path} was not stored`);
      assert.equal(a.status, b.status);
    }
  });

  it('coalesces identical concurrent requests into one upstream call', async () => {
    const before = up.seen.length;
    const answers = await Promise.all(Array.from({ length: 5 }, () => post('slow/predict', '{"same": 1}')));
    assert.equal(up.seen.length - before, 1, 'one call reached the model');
    assert.deepEqual(answers.map((a) => a.headers['x-cache']).sort(), ['HIT', 'HIT', 'HIT', 'HIT', 'MISS']);
    assert.equal(new Set(answers.map((a) => a.text)).size, 1);
    const metrics = (await call(`${gw.adminUrl}/metrics`)).text;
    assert.match(metrics, /modelgate_cache_lookups_total\{namespace="default",api="cached",result="coalesced"\} 4/);
  });

  it('documents X-Cache and Age on the answers', async () => {
    await gw.write(
      'documented.yaml',
      modelApiYaml(
        'cached-doc',
        'openapi',
        [{ name: 'v1', url: up.origin }],
        `  cache: {ttl: 1m}
  docs:
    openAPI:
      inline:
        openapi: 3.1.0
        info: {title: t, version: '1'}
        paths: {/predict: {post: {responses: {'200': {description: ok}}}}}
`,
      ),
    );
    type Doc = {
      paths: Record<string, { post: { responses: Record<string, { headers?: Record<string, { $ref: string }> }> } }>;
      components: { headers: Record<string, unknown> };
    };
    const doc = (await call(`${gw.url}/openapi/default/cached-doc.json`)).json() as Doc;
    const headers = doc.paths['/models/cached-doc/predict']!.post.responses['200']!.headers!;
    assert.equal(headers['X-Cache']?.$ref, '#/components/headers/modelgate.XCache');
    assert.equal(headers.Age?.$ref, '#/components/headers/modelgate.Age');
    assert.ok('modelgate.XCache' in doc.components.headers && 'modelgate.Age' in doc.components.headers);
  });
});

requireSystemPackages('redis-server');

describe('response cache in Redis', () => {
  let redis: TestRedis;
  let up: TestUpstream;
  let a: TestGateway;
  let b: TestGateway;
  before(async () => {
    redis = await startRedis();
    up = await startUpstream('model');
    const files = {
      'gw.yaml': `apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  redis: {url: "${redis.url}", timeout: 200ms}\n`,
      'api.yaml': modelApiYaml('shared', 'openapi', [{ name: 'v1', url: up.origin }], '  cache: {ttl: 1m}\n'),
    };
    a = await startGateway(files);
    b = await startGateway(files);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await up?.close();
    await redis?.stop();
  });

  it('an answer stored by one replica is served by the other', async () => {
    const first = await call(`${a.url}/models/shared/predict`, { body: '{"x": 1}', headers: json });
    assert.equal(first.headers['x-cache'], 'MISS');
    let second = await call(`${b.url}/models/shared/predict`, { body: '{"x": 1}', headers: json });
    // The store is written as the answer completes; give the write a moment in the unlikely case it lags.
    for (let i = 0; i < 20 && second.headers['x-cache'] !== 'HIT'; i++) {
      await new Promise((r) => setTimeout(r, 25));
      second = await call(`${b.url}/models/shared/predict`, { body: '{"x": 1}', headers: json });
    }
    assert.equal(second.headers['x-cache'], 'HIT');
    assert.equal(second.text, first.text);
    assert.equal(second.headers['content-type'], 'application/json');
  });

  it('treats an unreachable Redis as a miss and keeps serving', async () => {
    await redis.stop();
    const res = await call(`${a.url}/models/shared/predict`, { body: '{"x": 2}', headers: json });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-cache'], 'MISS');
    const metrics = (await call(`${a.adminUrl}/metrics`)).text;
    assert.match(metrics, /modelgate_cache_store_errors_total [1-9]/);
    await redis.restart();
  });
});
