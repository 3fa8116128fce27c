/**
 * /metrics describes the configuration in effect: after a reload that removes a ModelAPI its request, latency and
 * policy series are gone (the others stay), and the endpoints it had are no longer reported; the process and runtime
 * metrics are there.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { call, eventually, modelApiYaml, startGateway } from '../helpers/gateway.ts';
import { startUpstream } from '../helpers/upstream.ts';

describe('metrics after a reload', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers) await close();
  });

  it('drops the series of a removed API and its endpoints, keeps the rest', async () => {
    const a = await startUpstream('a');
    const b = await startUpstream('b');
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    const health = '  healthCheck: {active: {path: /status/200, interval: 30ms}}\n';
    const gw = await startGateway({
      'keep.yaml': modelApiYaml('keep', 'openapi', [{ name: 'v1', url: a.origin }], health),
      'gone.yaml': modelApiYaml(
        'gone',
        'openapi',
        [{ name: 'v1', url: b.origin }],
        `${health}  rateLimit: {requests: 1, per: 1m}\n`,
      ),
    });
    closers.push(() => gw.stop());
    const metrics = async () => (await fetch(`${gw.adminUrl}/metrics`)).text();
    await call(`${gw.url}/models/keep/x`);
    await call(`${gw.url}/models/gone/x`);
    await call(`${gw.url}/models/gone/x`); // 429: a policy series too
    await eventually(async () => (await metrics()).includes(`endpoint="${b.origin}"`));
    const before = await metrics();
    assert.match(before, /modelgate_requests_total\{namespace="default",api="gone",version="v1",code="200"\} 1/);
    assert.match(before, /modelgate_policy_rejections_total\{namespace="default",api="gone",policy="ratelimit"\} 1/);

    await gw.write('gone.yaml', '');
    await eventually(async () => !(await metrics()).includes('api="gone"'));
    const now = await metrics();
    assert.doesNotMatch(now, /api="gone"/);
    assert.doesNotMatch(now, new RegExp(`endpoint="${b.origin}"`));
    assert.match(now, /modelgate_requests_total\{namespace="default",api="keep",version="v1",code="200"\} 1/);
    assert.match(
      now,
      new RegExp(
        `modelgate_endpoint_healthy\\{namespace="default",api="keep",version="v1",endpoint="${a.origin}"\\} 1`,
      ),
    );
  });

  it('times a request to its last byte, and separately to its first', async () => {
    const slow = await startUpstream('slow', (req, res) => {
      if (req.url !== '/stream') return false;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      setTimeout(() => res.end('data: last\n\n'), 300);
      return true;
    });
    closers.push(() => slow.close());
    const gw = await startGateway({ 's.yaml': modelApiYaml('s', 'openapi', [{ name: 'v1', url: slow.origin }]) });
    closers.push(() => gw.stop());
    const res = await call(`${gw.url}/models/s/stream`);
    assert.match(res.text, /data: last/);
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    const sum = (name: string) =>
      Number(new RegExp(`^${name}_sum\\{namespace="default",api="s",version="v1"\\} (\\S+)`, 'm').exec(text)?.[1]);
    assert.ok(sum('modelgate_request_duration_seconds') >= 0.25, text);
    assert.ok(sum('modelgate_time_to_first_byte_seconds') < 0.25);
    assert.match(text, /modelgate_time_to_first_byte_seconds_count\{namespace="default",api="s",version="v1"\} 1/);
  });

  it('reports the process and the runtime', async () => {
    const gw = await startGateway({});
    closers.push(() => gw.stop());
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      assert.match(text, new RegExp(`^${name} `, 'm'), name);
  });
});
