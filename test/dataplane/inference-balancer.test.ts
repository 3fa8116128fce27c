/**
 * The InferenceAware balancer's scorers, one by one (each alone by its weight, the others at 0), then together: queue
 * depth from the server's metrics plus what this gateway sent since the scrape, KV-cache use, this gateway's in-flight
 * count, prompt-prefix affinity with its load bound; stale metrics fall back to in-flight counts. Then the parts under
 * it: prompt extraction and block hashing, the LRU prefix index, and reading vLLM / TGI / Triton metric texts with the
 * Prometheus parser (the simulator's own /metrics text included); the scraper's size and time bounds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServer } from '../../examples/servers/http-util.ts';
import { SimulatedEngine } from '../../examples/servers/vllm-simulator.ts';
import { DEFAULT_METRIC_NAMES } from '../../src/compiler/load-balancer.ts';
import { InferenceAwareBalancer } from '../../src/dataplane/balancing/inference-balancer.ts';
import { MetricsScraper, readLoad } from '../../src/dataplane/balancing/metrics-scraper.ts';
import { PrefixIndex } from '../../src/dataplane/balancing/prefix-index.ts';
import { blockHashes, promptBlocksOf, promptOf } from '../../src/dataplane/balancing/prompt-blocks.ts';
import { Endpoint } from '../../src/dataplane/endpoint.ts';
import { NativePool } from '../../src/dataplane/upstream/native-pool.ts';
import type { UpstreamTransport } from '../../src/dataplane/upstream/transport.ts';
import type { InferenceBalancingConfig } from '../../src/snapshot/types.ts';
import { eventually } from '../helpers/gateway.ts';

const passive = { consecutiveFailures: 3, ejectionTimeMs: 1000, maxEjectionPercent: 50 };
const ep = (name: string) => new Endpoint(name, {} as UpstreamTransport, true, passive);
const NOW = 1_000_000;
const STALE_MS = 1000;

function config(weights: Partial<InferenceBalancingConfig['weights']>, loadBound = 1.25): InferenceBalancingConfig {
  return {
    metrics: {
      path: '/metrics',
      intervalMs: 200,
      timeoutMs: 200,
      staleMs: STALE_MS,
      maxBytes: 1 << 20,
      ...DEFAULT_METRIC_NAMES,
    },
    weights: { queue: 0, kvCache: 0, inflight: 0, prefix: 0, ...weights },
    prefix: { blockSize: 16, maxBlocks: 64, capacity: 1000, loadBound },
  };
}

/** Sets what an endpoint's last scrape said. */
function report(e: Endpoint, waiting: number, running: number, kvCache = Number.NaN, at = NOW): void {
  e.reported = { waiting, running, kvCache, at, activeAtScrape: e.active };
}

/** Picks `times` times and counts the endpoints' names. */
function tally(b: InferenceAwareBalancer, times: number, prompt?: Uint32Array): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < times; i++) {
    const e = b.pick(NOW, undefined, prompt)!;
    counts[e.origin] = (counts[e.origin] ?? 0) + 1;
  }
  return counts;
}

const prompt = (text: string) => blockHashes(text, 16, 64);
const LONG_A = 'A system prompt about geology. '.repeat(8);
const LONG_B = 'A different system prompt on cooking. '.repeat(8);

describe('InferenceAware scorers', () => {
  it('queue: the server with fewer requests waiting and running', () => {
    const [a, b, c] = [ep('a'), ep('b'), ep('c')];
    report(a, 10, 8);
    report(b, 0, 3);
    report(c, 2, 8);
    assert.deepEqual(tally(new InferenceAwareBalancer([a, b, c], config({ queue: 1 })), 10), { b: 10 });
  });

  it('queue: requests this gateway sent since the scrape count at once, so a burst spreads', () => {
    const [a, b] = [ep('a'), ep('b')];
    report(a, 0, 0);
    report(b, 0, 1);
    const balancer = new InferenceAwareBalancer([a, b], config({ queue: 1 }));
    const first = balancer.pick(NOW)!;
    assert.equal(first, a, 'a reported less');
    a.active += 2; // two requests went to a after its scrape
    assert.equal(balancer.pick(NOW), b, 'a now holds 2, b 1');
    b.active -= 1; // one of b's (counted at scrape time) finished
    report(b, 0, 1); // …and the next scrape of b still saw it running
    assert.equal(balancer.pick(NOW), b);
  });

  it('KV cache: the server with more of its cache free', () => {
    const [a, b] = [ep('a'), ep('b')];
    report(a, 0, 0, 0.92);
    report(b, 0, 0, 0.15);
    assert.deepEqual(tally(new InferenceAwareBalancer([a, b], config({ kvCache: 1 })), 6), { b: 6 });
  });

  it('in flight: the endpoint with fewer of this gateway’s requests', () => {
    const [a, b, c] = [ep('a'), ep('b'), ep('c')];
    a.active = 4;
    b.active = 7;
    c.active = 1;
    assert.deepEqual(tally(new InferenceAwareBalancer([a, b, c], config({ inflight: 1 })), 5), { c: 5 });
  });

  it('prefix: a prompt goes back where its beginning went, the longest shared beginning winning', () => {
    const eps = [ep('a'), ep('b'), ep('c'), ep('d')];
    const balancer = new InferenceAwareBalancer(eps, config({ prefix: 1, inflight: 0.01 }));
    const first = balancer.pick(NOW, undefined, prompt(LONG_A))!;
    first.active++; // in flight there: without the prefix, the others would be preferred
    assert.deepEqual(tally(balancer, 5, prompt(`${LONG_A} and a question`)), { [first.origin]: 5 });
    // Another prompt does not follow it.
    const other = balancer.pick(NOW, undefined, prompt(LONG_B))!;
    assert.notEqual(other, first);
    // A prompt sharing 4 blocks with B's and 16 with A's goes to A's endpoint.
    const mixed = prompt(LONG_A.slice(0, 16 * 16));
    assert.equal(balancer.pick(NOW, undefined, mixed), first);
  });

  it('prefix: the load bound keeps a hot prefix from piling onto one server', () => {
    const [a, b, c] = [ep('a'), ep('b'), ep('c')];
    for (const e of [a, b, c]) report(e, 0, 2);
    const balancer = new InferenceAwareBalancer([a, b, c], config({ prefix: 5, queue: 1 }, 1.25));
    const hot = prompt(LONG_A);
    const home = balancer.pick(NOW, undefined, hot)!;
    // Its home is now far above the average (2 + 12 vs 2, 2): the prefix credit is withheld.
    report(home, 10, 4);
    const next = balancer.pick(NOW, undefined, hot)!;
    assert.notEqual(next, home);
    // Back under the bound, affinity returns.
    report(home, 0, 2);
    assert.equal(balancer.pick(NOW, undefined, hot), home);
  });

  it('stale metrics age out: the endpoint’s in-flight count stands in for its queue', () => {
    const [a, b] = [ep('a'), ep('b')];
    a.active = 6;
    b.active = 1;
    // a's last scrape said it was idle, but that was long ago; b's fresh figures say 3 at the server.
    report(a, 0, 0, 0.1, NOW - 2 * STALE_MS);
    report(b, 0, 3, 0.1, NOW);
    const balancer = new InferenceAwareBalancer([a, b], config({ queue: 1 }));
    assert.equal(balancer.pick(NOW), b, 'a counts as its 6 in flight, not its stale 0');
    // The same figures, fresh: a is picked.
    report(a, 0, 0, 0.1, NOW);
    a.reported = { ...a.reported!, activeAtScrape: 6 };
    assert.equal(balancer.pick(NOW), a);
    // No metrics at all (none scraped yet): in-flight counts decide.
    const [c, d] = [ep('c'), ep('d')];
    c.active = 3;
    d.active = 2;
    assert.equal(new InferenceAwareBalancer([c, d], config({ queue: 1, kvCache: 1 })).pick(NOW), d);
  });

  it('skips unavailable and excluded endpoints, and answers undefined when none is left', () => {
    const [a, b, c] = [ep('a'), ep('b'), ep('c')];
    b.healthy = false;
    const balancer = new InferenceAwareBalancer([a, b, c], config({ queue: 2, kvCache: 2, inflight: 1, prefix: 3 }));
    assert.equal(balancer.pick(NOW, new Set([a]), prompt(LONG_A)), c);
    assert.equal(balancer.pick(NOW, new Set([a, c])), undefined);
  });

  it('together, with the default weights: among equals the prefix decides; a saturated home is left', () => {
    const eps = [ep('a'), ep('b'), ep('c')];
    for (const e of eps) report(e, 0, 4, 0.5);
    const balancer = new InferenceAwareBalancer(eps, config({ queue: 2, kvCache: 2, inflight: 1, prefix: 3 }));
    const home = balancer.pick(NOW, undefined, prompt(LONG_A))!;
    assert.equal(balancer.pick(NOW, undefined, prompt(LONG_A)), home);
    report(home, 30, 32, 0.99);
    assert.notEqual(balancer.pick(NOW, undefined, prompt(LONG_A)), home);
  });
});

describe('prompt blocks and the prefix index', () => {
  it('reads the prompt of chat, completion, responses and embeddings bodies', () => {
    assert.equal(
      promptOf({
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        ],
      }),
      '<system>be brief<user>hi',
    );
    assert.equal(promptOf({ prompt: 'once upon' }), 'once upon');
    assert.equal(promptOf({ input: ['a', 'b'] }), 'a\nb');
    assert.equal(promptOf({ model: 'x' }), undefined);
    assert.equal(promptBlocksOf(Buffer.from('not json'), 16, 4), undefined);
    assert.equal(promptBlocksOf(Buffer.from(' {"prompt": "0123456789abcdef0123"}'), 16, 4)?.length, 1);
  });

  it('chains block hashes: a shared beginning gives the same leading hashes, and nothing after it', () => {
    const a = blockHashes(`${'x'.repeat(48)}AAAAAAAAAAAAAAAA`, 16, 64);
    const b = blockHashes(`${'x'.repeat(48)}BBBBBBBBBBBBBBBB${'x'.repeat(16)}`, 16, 64);
    assert.deepEqual([...a.slice(0, 3)], [...b.slice(0, 3)]);
    assert.notEqual(a[3], b[3]);
    assert.notEqual(b[4], blockHashes('x'.repeat(16), 16, 1)[0], 'a block after a difference differs too');
    assert.equal(blockHashes('x'.repeat(100), 16, 3).length, 3, 'at most maxBlocks');
    assert.equal(blockHashes('x'.repeat(15), 16, 3).length, 0, 'a partial block is not a block');
  });

  it('the index forgets the least recently used blocks beyond its capacity', () => {
    const index = new PrefixIndex(8);
    const first = blockHashes('a'.repeat(16 * 6), 16, 64);
    const second = blockHashes('b'.repeat(16 * 6), 16, 64);
    index.record(first, 0);
    index.record(second, 1);
    assert.equal(index.size, 8);
    const m = new Int32Array(2);
    index.match(second, m);
    assert.deepEqual([...m], [0, 6]);
    m.fill(0);
    index.match(first, m);
    assert.deepEqual([...m], [0, 0], 'the first prompt’s leading blocks were forgotten first');
  });
});

describe('reading model servers’ metrics', () => {
  it('vLLM (the simulator’s /metrics): waiting, running and KV-cache use', () => {
    const engine = new SimulatedEngine();
    for (let i = 0; i < 40; i++)
      engine.submit(
        'hello '.repeat(100),
        4,
        () => {},
        () => {},
      );
    const load = readLoad(engine.metrics(), DEFAULT_METRIC_NAMES);
    assert.equal(load.waiting, 40, 'the engine has not stepped yet');
    assert.equal(load.running, 0);
    assert.equal(load.kvCache, 0);
  });

  it('the older vLLM KV-cache name, TGI and Triton names, summed over series; a missing family is NaN', () => {
    const v0 = new SimulatedEngine({ metricNames: 'v0' }).metrics();
    assert.match(v0, /vllm:gpu_cache_usage_perc/);
    assert.equal(readLoad(v0, DEFAULT_METRIC_NAMES).kvCache, 0);
    const tgi =
      '# TYPE tgi_queue_size gauge\ntgi_queue_size 7\n# TYPE tgi_batch_current_size gauge\ntgi_batch_current_size 12\n';
    assert.deepEqual({ ...readLoad(tgi, DEFAULT_METRIC_NAMES) }, { waiting: 7, running: 12, kvCache: Number.NaN });
    const triton =
      '# HELP nv_inference_pending_request_count Instantaneous number of pending requests\n# TYPE nv_inference_pending_request_count gauge\n' +
      'nv_inference_pending_request_count{model="a",version="1"} 3\nnv_inference_pending_request_count{model="b",version="1"} 4\n' +
      '# TYPE nv_inference_count counter\nnv_inference_count{model="a",version="1"} 900\n';
    assert.equal(readLoad(triton, DEFAULT_METRIC_NAMES).waiting, 7);
    assert.ok(Number.isNaN(readLoad(triton, DEFAULT_METRIC_NAMES).running));
  });

  it('configured names win in their order; KV use is clamped to 0–1', () => {
    const text = 'my_queue{shard="0"} 2\nmy_queue{shard="1"} 5\nother_queue 100\nmy_kv 1.7\n';
    const load = readLoad(text, {
      waiting: ['absent', 'my_queue', 'other_queue'],
      running: ['absent'],
      kvCache: ['my_kv'],
    });
    assert.equal(load.waiting, 7);
    assert.equal(load.kvCache, 1);
  });

  it('a text that is not Prometheus format fails the scrape instead of reading garbage', () => {
    assert.throws(() => readLoad('vllm:num_requests_waiting{model="a" 3\n', DEFAULT_METRIC_NAMES));
  });
});

describe('the metrics scraper is bounded in size and time', () => {
  it('refuses an answer over maxBytes and gives up on a silent server, keeping no figures', async () => {
    const big = await startServer((_req, res, path) => {
      if (path === '/silent') return new Promise<boolean>(() => {}); // never answers
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`vllm:num_requests_waiting 3\n${'# padding\n'.repeat(500)}`);
      return true;
    });
    const pool = new NativePool({ origin: `http://127.0.0.1:${big.port}`, connections: 4, connectTimeoutMs: 1000 });
    const settings = { ...config({}).metrics!, timeoutMs: 100, maxBytes: 1024 };
    const scrape = (path: string) => {
      const e = ep(`http://127.0.0.1:${big.port}`);
      const s = new MetricsScraper(e, { ...settings, path }, pool, '', undefined);
      s.start();
      return { e, s };
    };
    const large = scrape('/metrics');
    const silent = scrape('/silent');
    try {
      await eventually(() => large.s.failures > 0 && silent.s.failures > 0, 3000);
      assert.match(large.s.lastError ?? '', /exceeds 1024 bytes/);
      assert.match(silent.s.lastError ?? '', /no answer within 100 ms/);
      assert.equal(large.e.reported, undefined);
      assert.equal(silent.e.reported, undefined);
    } finally {
      large.s.stop();
      silent.s.stop();
      big.server.closeAllConnections();
      big.server.close();
      await pool.close();
    }
  });
});
