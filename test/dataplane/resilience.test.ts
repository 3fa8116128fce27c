/** Failures between gateway and model servers: retries, timeouts, dead endpoints, mid-stream cuts, client aborts. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { call, modelApiYaml, serviceApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startFailingUpstream, startUpstream, type TestUpstream, unusedPort } from '../helpers/upstream.ts';

describe('retries', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let dead: number;
  before(async () => {
    up = await startUpstream('live');
    dead = await unusedPort();
    gw = await startGateway({
      'infer.yaml': serviceApiYaml(
        'infer',
        'openapi',
        [dead, up.port],
        '  loadBalancer: {policy: RoundRobin}\n  retries: {attempts: 2, backoff: 1ms, nonIdempotent: true}\n  healthCheck: {passive: {consecutiveFailures: 1000}}\n',
      ),
      'gen.yaml': serviceApiYaml(
        'gen',
        'openai',
        [dead, up.port],
        '  loadBalancer: {policy: RoundRobin}\n  retries: {attempts: 0}\n  healthCheck: {active: {enabled: false}, passive: {consecutiveFailures: 1000}}\n',
      ),
    });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  it('a connect failure is retried on another endpoint, so every request succeeds', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await call(`${gw.url}/models/infer/x`, { body: '{"i":1}' });
      assert.equal(res.status, 200, res.text);
      assert.equal((res.json() as { body: string }).body, '{"i":1}', 'the replayed body is intact');
    }
  });

  it('without retries, a dead endpoint answers 502 problem+json with the reason but not its address', async () => {
    const statuses = new Set<number>();
    let problem: { code: string; detail: string } | undefined;
    for (let i = 0; i < 4; i++) {
      const res = await call(`${gw.url}/models/gen/x`);
      statuses.add(res.status);
      if (res.status === 502) problem = res.json() as typeof problem;
    }
    assert.deepEqual([...statuses].sort(), [200, 502]);
    assert.equal(problem?.code, 'MG-502-UPSTREAM-CONNECT');
    assert.match(problem?.detail ?? '', /ECONNREFUSED/);
    // The address of an internal endpoint is not the caller's business (it stays in the gateway's own records).
    assert.doesNotMatch(problem?.detail ?? '', new RegExp(`127\\.0\\.0\\.1|${dead}`));
  });
});

describe('status retries and idempotency', () => {
  it('retries a 503 for an inference POST and succeeds on the next endpoint', async () => {
    const flaky = await startFailingUpstream('flaky', 503, 'busy');
    const ok = await startUpstream('ok');
    const gw = await startGateway({
      'm.yaml': serviceApiYaml(
        'm',
        'open-inference-v2',
        [flaky.port, ok.port],
        '  loadBalancer: {policy: RoundRobin}\n  retries: {attempts: 1, backoff: 1ms}\n  healthCheck: {active: {enabled: false}}\n',
      ),
    });
    try {
      for (let i = 0; i < 4; i++) {
        const res = await call(`${gw.url}/models/m/infer`, { body: '{}' });
        assert.equal(res.status, 200);
        assert.equal(res.headers['x-from'], 'ok');
      }
      assert.ok(flaky.seen.length >= 1, 'the failing endpoint was tried');
    } finally {
      await gw.stop();
      await flaky.close();
      await ok.close();
    }
  });

  it('does not retry an OpenAI generation POST after it reached the model (not idempotent)', async () => {
    const bad = await startFailingUpstream('bad', 503, 'busy');
    const gw = await startGateway({
      'g.yaml': modelApiYaml(
        'g',
        'openai',
        [{ name: 'v1', url: bad.origin }],
        '  healthCheck: {active: {enabled: false}}\n',
      ),
    });
    try {
      const res = await call(`${gw.url}/models/g/v1/completions`, { body: '{}' });
      assert.equal(res.status, 503, 'the upstream 503 is relayed as is');
      assert.equal(res.text, 'busy');
      // (The OpenAI endpoint's model discovery asks GET /v1/models of it too: only the POSTs count here.)
      assert.equal(bad.seen.filter((r) => r.method === 'POST').length, 1);
    } finally {
      await gw.stop();
      await bad.close();
    }
  });
});

describe('timeouts and upstream failures', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    up = await startUpstream('slow');
    gw = await startGateway({
      'slow.yaml': modelApiYaml(
        'slow',
        'openapi',
        [{ name: 'v1', url: up.origin }],
        '  timeouts: {request: 300ms, idle: 300ms}\n  retries: {attempts: 0}\n',
      ),
      'none.yaml': serviceApiYaml('none', 'openapi', []),
    });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  it('answers 504 problem+json when the model does not answer in time', async () => {
    const started = Date.now();
    const res = await call(`${gw.url}/models/slow/delay/3000`);
    assert.equal(res.status, 504);
    assert.equal((res.json() as { code: string }).code, 'MG-504-UPSTREAM-TIMEOUT');
    assert.ok(Date.now() - started < 2900, 'the client was not kept waiting for the model');
  });

  it('answers 503 when a version has no endpoints', async () => {
    const res = await call(`${gw.url}/models/none/x`);
    assert.equal(res.status, 503);
    const p = res.json() as { code: string; detail: string };
    assert.equal(p.code, 'MG-503-UPSTREAM-UNAVAILABLE');
    assert.match(p.detail, /no endpoints are resolved/);
  });

  it('answers 502 when the model closes the connection without answering', async () => {
    const res = await call(`${gw.url}/models/slow/drop`);
    assert.equal(res.status, 502);
    assert.equal((res.json() as { code: string }).code, 'MG-502-UPSTREAM-CONNECT');
  });

  it('cuts the client connection when the model dies mid-stream (never a hang)', async () => {
    const mid = await startUpstream('mid', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      setTimeout(() => res.socket?.destroy(), 50);
      return true;
    });
    const gw2 = await startGateway({ 'mid.yaml': modelApiYaml('mid', 'openapi', [{ name: 'v1', url: mid.origin }]) });
    try {
      const res = await request(`${gw2.url}/models/mid/stream`);
      assert.equal(res.statusCode, 200);
      await assert.rejects(res.body.text());
    } finally {
      await gw2.stop();
      await mid.close();
    }
  });

  it('an idle stream is cut after the idle timeout', async () => {
    const res = await request(`${gw.url}/models/slow/sse/2/1000`);
    assert.equal(res.statusCode, 200);
    await assert.rejects(res.body.text());
  });
});

describe('streaming', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    up = await startUpstream('sse');
    gw = await startGateway({ 'sse.yaml': modelApiYaml('sse', 'openai', [{ name: 'v1', url: up.origin }]) });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  it('passes each SSE event through before the upstream has finished', async () => {
    const res = await request(`${gw.url}/models/sse/sse/5/150`);
    assert.equal(res.headers['content-type'], 'text/event-stream');
    const arrivals: number[] = [];
    const started = Date.now();
    let text = '';
    for await (const chunk of res.body) {
      text += chunk.toString();
      arrivals.push(Date.now() - started);
    }
    assert.equal(text.split('\n\n').filter(Boolean).length, 5);
    // The first event arrives long before the stream ends (5 events × 150 ms): nothing was buffered.
    assert.ok(arrivals.length >= 4, `events arrived in ${arrivals.length} chunks`);
    assert.ok(arrivals[0]! < arrivals.at(-1)! - 300, JSON.stringify(arrivals));
  });

  it('a client that disconnects aborts the upstream request', async () => {
    const before = up.aborted;
    const controller = new AbortController();
    const res = await request(`${gw.url}/models/sse/sse/50/50`, { signal: controller.signal });
    const iterator = res.body[Symbol.asyncIterator]();
    await iterator.next();
    controller.abort();
    await assert.rejects(iterator.next());
    for (let i = 0; i < 50 && up.aborted === before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(up.aborted, before + 1);
  });
});
