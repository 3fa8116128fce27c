/**
 * Rate limits shared by replicas through a real Redis (Debian redis-server on loopback): two gateway instances spend
 * one budget, atomically; with Redis stopped mid-test the default failure mode lets traffic through (counted, no
 * crash) and limiting resumes when Redis returns; `failureMode: closed` refuses instead.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { requireSystemPackages } from '../helpers/system-packages.ts';
import { startUpstream, type TestUpstream, unusedPort } from '../helpers/upstream.ts';

const files = (redisUrl: string, upstream: string, failureMode = 'open') => ({
  'gw.yaml': `apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  redis: {url: "${redisUrl}", timeout: 200ms, failureMode: ${failureMode}}\n`,
  'api.yaml': modelApiYaml(
    'shared',
    'openapi',
    [{ name: 'v1', url: upstream }],
    '  rateLimit: {requests: 4, per: 1h, scope: global, key: route}\n',
  ),
});

requireSystemPackages('redis-server');

describe('global rate limit through Redis', () => {
  let redis: TestRedis;
  let up: TestUpstream;
  let a: TestGateway;
  let b: TestGateway;
  before(async () => {
    redis = await startRedis();
    up = await startUpstream('model');
    a = await startGateway(files(redis.url, up.origin));
    b = await startGateway(files(redis.url, up.origin));
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await up?.close();
    await redis?.stop();
  });

  const hit = (gw: TestGateway) => call(`${gw.url}/models/shared/predict`, { body: '{}' });

  it('two replicas spend one budget', async () => {
    const statuses = [];
    for (const gw of [a, b, a, b, a, b]) statuses.push((await hit(gw)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
    const refused = await hit(b);
    assert.equal((refused.json() as { code: string }).code, 'MG-429-RATE-LIMITED');
    assert.equal(refused.headers['ratelimit-policy'], '"default";q=4;w=3600');
  });

  it('fails open while Redis is down, counts it, and limits again when Redis is back', async () => {
    await redis.stop();
    const during = await hit(a);
    assert.equal(during.status, 200, 'fail-open: the request goes through');
    const metrics = (await call(`${a.adminUrl}/metrics`)).text;
    assert.match(metrics, /modelgate_ratelimit_store_errors_total [1-9]/);
    await redis.restart(); // an empty Redis: a fresh budget of 4
    await eventually(async () => (await hit(a)).status === 429, 10_000);
  });

  it('refuses while the store is unreachable with failureMode closed', async () => {
    const closed = await startGateway(files(`redis://127.0.0.1:${await unusedPort()}`, up.origin, 'closed'));
    try {
      const res = await hit(closed);
      assert.equal(res.status, 429);
    } finally {
      await closed.stop();
    }
  });
});
