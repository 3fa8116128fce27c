/**
 * Faults and load, bounded, against a real gateway on loopback (`npm run reliability`, in CI):
 * - 100 configuration changes while keep-alive clients send requests: not one request lost or failed;
 * - the upstream fault matrix: each way an upstream can fail gets its documented answer (status, problem code) —
 *   never an empty reply, never a crash — and the next request works;
 * - retries and passive ejection with endpoints that refuse, reset and hang.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { call, modelApiYaml, serviceApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { type RawUpstream, rawUpstream } from '../helpers/raw-upstream.ts';
import { startUpstream, type TestUpstream, unusedPort } from '../helpers/upstream.ts';

describe('100 configuration changes under keep-alive load', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    up = await startUpstream('live');
    gw = await startGateway({ 'iris.yaml': modelApiYaml('iris', 'openapi', [{ name: 'v1', url: up.origin }]) });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  it('loses no request', async () => {
    const client = new Pool(gw.url, { connections: 8, pipelining: 1 });
    let stop = false;
    let sent = 0;
    const failures: string[] = [];
    const load = async () => {
      while (!stop) {
        sent++;
        try {
          const res = await client.request({ path: '/models/iris/predict', method: 'POST', body: '{"x":1}' });
          const text = await res.body.text();
          if (res.statusCode !== 200) failures.push(`${res.statusCode} ${text.slice(0, 200)}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    const clients = Array.from({ length: 8 }, load);
    for (let i = 0; i < 100; i++) {
      // Every kind of change a reload brings: the API itself, its policies, other APIs coming and going.
      const extra = [
        `  timeouts: {request: ${10 + (i % 5)}s}\n`,
        `  retries: {attempts: ${i % 3}}\n`,
        '  cors: {allowOrigins: ["https://a.example"]}\n',
        `  rateLimit: {requests: 100000, window: 1m}\n`,
      ][i % 4]!;
      await gw.write('iris.yaml', modelApiYaml('iris', 'openapi', [{ name: 'v1', url: up.origin }], extra));
      if (i % 2 === 0)
        await gw.write(`other-${i}.yaml`, modelApiYaml(`other-${i}`, 'openapi', [{ name: 'v1', url: up.origin }]));
    }
    stop = true;
    await Promise.all(clients);
    await client.close();
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${sent} requests failed`);
    assert.ok(sent > 200, `only ${sent} requests were sent during the reloads`);
  });
});

describe('the upstream fault matrix', () => {
  let faulty: RawUpstream;
  let good: TestUpstream;
  let gw: TestGateway;
  /** How the raw upstream answers each path. */
  const behaviours: Record<string, (s: import('node:net').Socket) => void> = {
    '/reset': (s) => s.destroy(),
    '/hang': () => {},
    '/garbage': (s) => s.write('NOT HTTP AT ALL\r\n\r\n'),
    '/bad-chunk': (s) => s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'),
    '/switch': (s) => s.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\nconnection: upgrade\r\n\r\n'),
    '/huge-head': (s) => s.write(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(100_000)}\r\n\r\n`),
    '/cut-body': (s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial'),
    '/stall-body': (s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial'),
    '/ok': (s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'),
  };
  before(async () => {
    faulty = await rawUpstream((r, s) => behaviours[r.path]?.(s));
    good = await startUpstream('good');
    const dead = await unusedPort();
    const common = '  healthCheck: {active: {enabled: false}, passive: {consecutiveFailures: 1000}}\n';
    gw = await startGateway({
      'faulty.yaml': modelApiYaml(
        'faulty',
        'openapi',
        [{ name: 'v1', url: faulty.origin }],
        `  timeouts: {request: 400ms, idle: 400ms}\n  retries: {attempts: 1, backoff: 1ms}\n${common}`,
      ),
      'dead.yaml': modelApiYaml('dead', 'openapi', [{ name: 'v1', url: `http://127.0.0.1:${dead}` }], common),
      'good.yaml': modelApiYaml('good', 'openapi', [{ name: 'v1', url: good.origin }]),
    });
  });
  after(async () => {
    await gw.stop();
    await faulty.close();
    await good.close();
  });

  const matrix: [string, string, number, string | undefined][] = [
    ['refused', '/models/dead/x', 502, 'MG-502-UPSTREAM-CONNECT'],
    ['reset before the answer', '/models/faulty/reset', 502, 'MG-502-UPSTREAM-CONNECT'],
    ['no answer', '/models/faulty/hang', 504, 'MG-504-UPSTREAM-TIMEOUT'],
    ['not HTTP', '/models/faulty/garbage', 502, 'MG-502-UPSTREAM-PROTOCOL'],
    ['broken chunking', '/models/faulty/bad-chunk', 502, 'MG-502-UPSTREAM-PROTOCOL'],
    ['a protocol switch', '/models/faulty/switch', 502, 'MG-502-UPSTREAM-PROTOCOL'],
    ['a head over the limit', '/models/faulty/huge-head', 502, 'MG-502-UPSTREAM-PROTOCOL'],
  ];
  for (const [what, path, status, code] of matrix) {
    it(`${what}: ${status} ${code}, then the next request works`, async () => {
      const res = await call(`${gw.url}${path}`);
      assert.equal(res.status, status, res.text);
      assert.equal(res.headers['content-type'], 'application/problem+json');
      assert.equal((res.json() as { code: string }).code, code);
      assert.equal((await call(`${gw.url}/models/good/x`)).status, 200);
      assert.equal((await call(`${gw.url}/models/faulty/ok`)).status, 200);
    });
  }

  for (const [what, path] of [
    ['a body cut short', '/models/faulty/cut-body'],
    ['a body that stalls', '/models/faulty/stall-body'],
  ] as const) {
    it(`${what}: the status is out, so the client sees the connection cut (never a hang); the next request works`, async () => {
      await assert.rejects(async () => {
        const res = await call(`${gw.url}${path}`);
        throw new Error(`got a whole answer: ${res.status} ${res.text}`);
      }, /other side closed|terminated|socket|aborted|ECONNRESET|Response body/i);
      assert.equal((await call(`${gw.url}/models/good/x`)).status, 200);
    });
  }

  it('the gateway is still alive and ready', async () => {
    assert.equal((await call(`${gw.adminUrl}/readyz`)).status, 200);
  });
});

describe('retries and passive ejection with endpoints that refuse, reset and hang', () => {
  let up: TestUpstream;
  let reset: RawUpstream;
  let hang: RawUpstream;
  let gw: TestGateway;
  before(async () => {
    up = await startUpstream('live');
    reset = await rawUpstream((_r, s) => s.destroy());
    hang = await rawUpstream(() => {});
    const dead = await unusedPort();
    gw = await startGateway({
      'mixed.yaml': serviceApiYaml(
        'mixed',
        'openapi',
        [up.port, dead, reset.port, hang.port],
        '  loadBalancer: {policy: RoundRobin}\n  timeouts: {request: 5s, backendRequest: 200ms}\n  retries: {attempts: 3, backoff: 1ms, on: [connect-failure, reset, gateway-error]}\n  healthCheck: {active: {enabled: false}, passive: {consecutiveFailures: 2, ejectionTime: 60s, maxEjectionPercent: 75}}\n',
      ),
    });
  });
  after(async () => {
    await gw.stop();
    await Promise.all([up.close(), reset.close(), hang.close()]);
  });

  it('every GET succeeds through retries, and the three bad endpoints are ejected', async () => {
    for (let i = 0; i < 30; i++) {
      const res = await call(`${gw.url}/models/mixed/x`);
      assert.equal(res.status, 200, `request ${i + 1}: ${res.text}`);
    }
    // Once ejected, the bad endpoints see no more requests: the last 10 requests went straight to the live one.
    const resetBefore = reset.requests.length;
    const hangBefore = hang.requests.length;
    for (let i = 0; i < 10; i++) assert.equal((await call(`${gw.url}/models/mixed/x`)).status, 200);
    assert.equal(reset.requests.length, resetBefore);
    assert.equal(hang.requests.length, hangBefore);
  });
});
