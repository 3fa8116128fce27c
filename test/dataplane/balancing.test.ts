/**
 * Balancing and health as tables of scenarios against real upstreams (in the spirit of undici's balanced-pool
 * tests): endpoints go down and come back, and the share of traffic each one gets is checked after every step.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeastRequestBalancer, RoundRobinBalancer } from '../../src/dataplane/balancer.ts';
import { Endpoint } from '../../src/dataplane/endpoint.ts';
import type { UpstreamTransport } from '../../src/dataplane/upstream/transport.ts';
import { call, eventually, serviceApiYaml, startGateway } from '../helpers/gateway.ts';
import { startFailingUpstream, startUpstream } from '../helpers/upstream.ts';

const passive = { consecutiveFailures: 3, ejectionTimeMs: 1000, maxEjectionPercent: 50 };
const ep = (name: string, ready = true) => new Endpoint(name, {} as UpstreamTransport, ready, passive);

describe('balancer policies', () => {
  it('round robin cycles over available endpoints and skips excluded ones', () => {
    const eps = [ep('a'), ep('b'), ep('c', false), ep('d')];
    eps[3]!.healthy = false;
    const rr = new RoundRobinBalancer(eps);
    assert.deepEqual(
      Array.from({ length: 4 }, () => rr.pick(0)?.origin),
      ['a', 'b', 'a', 'b'],
    );
    assert.equal(rr.pick(0, new Set([eps[0]!]))?.origin, 'b');
    assert.equal(rr.pick(0, new Set([eps[0]!, eps[1]!])), undefined);
  });

  it('least request picks the less loaded of two random choices', () => {
    const eps = [ep('a'), ep('b'), ep('c')];
    eps[0]!.active = 10;
    eps[1]!.active = 0;
    eps[2]!.active = 5;
    const sequence = [0.0, 0.5, 0.9, 0.1, 0.4, 0.2]; // → (a,b) (c,a)→… deterministic pairs
    let i = 0;
    const lr = new LeastRequestBalancer(eps, () => sequence[i++ % sequence.length]!);
    const picks = Array.from({ length: 3 }, () => lr.pick(0)?.origin);
    assert.ok(!picks.includes('a'), `the busiest endpoint is never preferred over a lighter one: ${picks}`);
  });

  it('ejected endpoints come back after the ejection time; max ejection percent holds', () => {
    const eps = [ep('a'), ep('b')];
    const mayEject = () => eps.filter((e) => e.ejected(0)).length + 1 <= 1; // 50% of 2
    for (let i = 0; i < 3; i++) eps[0]!.failed(0, mayEject);
    assert.equal(eps[0]!.available(0), false);
    assert.equal(eps[0]!.available(1000), true);
    for (let i = 0; i < 3; i++) eps[1]!.failed(0, mayEject);
    assert.equal(eps[1]!.available(0), true, 'the second ejection would cross 50%');
    eps[0]!.failed(2000, mayEject);
    eps[0]!.succeeded();
    for (let i = 0; i < 2; i++) eps[0]!.failed(2000, mayEject);
    assert.equal(eps[0]!.available(2000), true, 'a success resets the consecutive count');
  });
});

describe('health through the gateway', () => {
  it('active checks take a failing endpoint out and put it back when it recovers', async () => {
    const state = { bReady: true };
    const a = await startUpstream('a');
    const b = await startUpstream('b', (req, res) => {
      if (req.url === '/ready') {
        res.writeHead(state.bReady ? 200 : 503);
        res.end();
        return true;
      }
      return false;
    });
    const gw = await startGateway({
      'h.yaml': serviceApiYaml(
        'h',
        'openapi',
        [a.port, b.port],
        '  loadBalancer: {policy: RoundRobin}\n  healthCheck: {active: {path: /ready, interval: 50ms, timeout: 200ms, unhealthyThreshold: 1, healthyThreshold: 1}}\n',
      ),
    });
    const share = async (n: number) => {
      const counts: Record<string, number> = { a: 0, b: 0 };
      for (let i = 0; i < n; i++) counts[(await call(`${gw.url}/models/h/x`)).headers['x-from'] as string]!++;
      return counts;
    };
    try {
      const steps: { title: string; bReady: boolean; expect: (c: Record<string, number>) => boolean }[] = [
        { title: 'both healthy: traffic alternates', bReady: true, expect: (c) => c.a === 10 && c.b === 10 },
        { title: 'b fails its ready probe: all traffic to a', bReady: false, expect: (c) => c.a === 20 && c.b === 0 },
        { title: 'b recovers: alternating again', bReady: true, expect: (c) => c.a === 10 && c.b === 10 },
      ];
      for (const step of steps) {
        state.bReady = step.bReady;
        const probesBefore = b.seen.filter((s) => s.url === '/ready').length;
        await eventually(() => b.seen.filter((s) => s.url === '/ready').length >= probesBefore + 2);
        const counts = await share(20);
        assert.ok(step.expect(counts), `${step.title}: ${JSON.stringify(counts)}`);
      }
      const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
      assert.match(
        metrics,
        /modelgate_endpoint_healthy\{namespace="default",api="h",version="v1",endpoint="http:\/\/127\.0\.0\.1:\d+"\} 1/,
      );
    } finally {
      await gw.stop();
      await a.close();
      await b.close();
    }
  });

  it('passive ejection stops sending traffic to an endpoint that keeps failing', async () => {
    const good = await startUpstream('good');
    const bad = await startFailingUpstream('bad', 500);
    const gw = await startGateway({
      'p.yaml': serviceApiYaml(
        'p',
        'openapi',
        [good.port, bad.port],
        '  loadBalancer: {policy: RoundRobin}\n  retries: {attempts: 0}\n  healthCheck: {passive: {consecutiveFailures: 2, ejectionTime: 10s, maxEjectionPercent: 50}}\n',
      ),
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await call(`${gw.url}/models/p/x`)).status);
      // Two failures eject `bad`; after that every request lands on `good`.
      assert.equal(statuses.filter((s) => s === 500).length, 2, JSON.stringify(statuses));
      assert.deepEqual(statuses.slice(-10), Array(10).fill(200));
    } finally {
      await gw.stop();
      await good.close();
      await bad.close();
    }
  });
});

describe('retry budget', () => {
  it('allows retries up to a share of the requests in flight, with a floor', async () => {
    const { RetryBudget } = await import('../../src/dataplane/retry-budget.ts');
    const budget = new RetryBudget(3);
    budget.active = 100;
    const allowed: boolean[] = [];
    for (let i = 0; i < 25; i++) {
      allowed.push(budget.allows(20));
      if (allowed.at(-1)) budget.retrying++;
    }
    assert.equal(allowed.filter(Boolean).length, 20, '20% of 100 requests in flight');
    const quiet = new RetryBudget(3);
    quiet.active = 1;
    let n = 0;
    while (quiet.allows(20)) {
      quiet.retrying++;
      n++;
    }
    assert.equal(n, 3, 'a quiet cluster may still retry up to the floor');
  });
});
