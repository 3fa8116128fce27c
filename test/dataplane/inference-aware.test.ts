/**
 * InferenceAware balancing through a real gateway, over simulated vLLM replicas on loopback (real HTTP servers with
 * vLLM's /metrics; examples/servers/vllm-simulator.ts): the gateway scrapes each replica's queue and sends new requests
 * away from one with a queue the gateway did not cause; the same long prompt keeps going where its prefix is cached
 * (and the replica counts the cache hits); metrics on another port are read there; a replica whose metrics fail is
 * still served, by in-flight counts.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startServer } from '../../examples/servers/http-util.ts';
import { startSimulator } from '../../examples/servers/vllm-simulator.ts';
import { call, eventually, serviceApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { type Replica, simulatorChat } from '../helpers/simulated-llm.ts';

const apiYaml = (name: string, ports: number[], inference: string) =>
  serviceApiYaml(
    name,
    'openai',
    ports,
    `  healthCheck: {active: {enabled: false}}\n  loadBalancer: {policy: InferenceAware, inference: ${inference}}\n`,
  );

describe('InferenceAware balancing over simulated vLLM replicas', () => {
  const replicas: Replica[] = [];
  let metricsOnly: { server: Server; port: number } | undefined;
  let gw: TestGateway;

  before(async () => {
    for (let i = 0; i < 3; i++) replicas.push(await startSimulator({ timeScale: 0.02 }));
    // A replica whose metrics live on another port (as Triton's on 8002): the serving port has none.
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    metricsOnly = await startServer((_req, res, path) => {
      if (path !== '/metrics') return false;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name="sim-7b"} 1234\n');
      return true;
    });
    gw = await startGateway({
      'queue.yaml': apiYaml('queue', [a.port, b.port], '{metrics: {interval: 50ms}, weights: {queue: 1, prefix: 0}}'),
      'prefix.yaml': apiYaml(
        'prefix',
        [a.port, b.port, c.port],
        '{metrics: {enabled: false}, weights: {inflight: 1, prefix: 3}}',
      ),
      'port.yaml': apiYaml('port', [c.port], `{metrics: {interval: 50ms, port: ${metricsOnly.port}}}`),
      'broken.yaml': apiYaml('broken', [a.port, b.port], '{metrics: {interval: 50ms, path: /nowhere}}'),
    });
  });
  after(async () => {
    await gw?.stop();
    for (const r of replicas) r.server.close();
    metricsOnly?.server.close();
  });

  it('reads each replica’s queue from its metrics and sends new requests elsewhere', async () => {
    const [a, b] = replicas as [Replica, Replica];
    // Replica a gets a queue from someone else (another gateway, a direct client): 200 long generations.
    const cancels = Array.from({ length: 200 }, () =>
      a.engine.submit(
        'x'.repeat(4000),
        50,
        () => {},
        () => {},
      ),
    );
    await eventually(() => a.engine.waiting > 0, 2000);
    await new Promise((r) => setTimeout(r, 300)); // several scrapes
    const before = { a: a.engine.counters.submitted, b: b.engine.counters.submitted };
    for (let i = 0; i < 10; i++) {
      const res = await call(`${gw.url}/models/queue/v1/chat/completions`, simulatorChat('be brief', `question ${i}`));
      assert.equal(res.status, 200, res.text);
    }
    assert.equal(a.engine.counters.submitted - before.a, 0, 'nothing went to the replica with the queue');
    assert.equal(b.engine.counters.submitted - before.b, 10);
    for (const cancel of cancels) cancel();
  });

  it('keeps a prompt whose beginning is cached on the replica that caches it', async () => {
    const system = `You answer questions about this contract. ${'Clause text that goes on and on. '.repeat(60)}`;
    const seen = replicas.map((r) => r.engine.counters.submitted);
    const hits = replicas.map((r) => r.engine.counters.prefixHits);
    for (let i = 0; i < 9; i++) {
      const res = await call(`${gw.url}/models/prefix/v1/chat/completions`, simulatorChat(system, `question ${i}?`));
      assert.equal(res.status, 200, res.text);
    }
    const got = replicas.map((r, i) => r.engine.counters.submitted - seen[i]!);
    assert.deepEqual(got.toSorted(), [0, 0, 9], `all nine on one replica: ${got}`);
    const home = got.indexOf(9);
    const cached = replicas[home]!.engine.counters.prefixHits - hits[home]!;
    assert.ok(cached >= 8 * 500, `the later eight found the ~2,000-token system prompt cached (${cached} tokens)`);
  });

  it('reads metrics on another port than the serving one, and shows what it read in /metrics', async () => {
    // The serving port's own /metrics says 0 waiting; the metrics port says 1234.
    await eventually(async () => {
      const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
      return /modelgate_endpoint_load\{namespace="default",api="port",version="v1",endpoint="[^"]+",figure="waiting"\} 1234\n/.test(
        metrics,
      );
    }, 2000);
    const res = await call(`${gw.url}/models/port/v1/chat/completions`, simulatorChat('be brief', 'hi'));
    assert.equal(res.status, 200, res.text);
  });

  it('serves a version whose metrics cannot be read, balancing by in-flight counts', async () => {
    const res = await call(`${gw.url}/models/broken/v1/chat/completions`, simulatorChat('be brief', 'hi'));
    assert.equal(res.status, 200, res.text);
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /modelgate_endpoint_load\{[^}]*api="queue"/, 'the readable ones are shown');
    assert.doesNotMatch(metrics, /modelgate_endpoint_load\{[^}]*api="broken"/, 'nothing was read');
  });
});
