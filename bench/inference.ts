/**
 * The inference scenario (issue 24): 4 simulated vLLM replicas, one of them twice as slow
 * (examples/servers/vllm-simulator.ts), behind modelgate with round robin, least request and InferenceAware, the same
 * workload for each on fresh replicas (empty caches): multi-turn chats under a few shared system prompts, and
 * questions about a few long documents, streamed, with open-loop (Poisson) arrivals at ~80% of the capacity least
 * request reaches in a closed-loop calibration run. Reports TTFT p50/p99, end-to-end p99, throughput and the prefix
 * cache hit rate the replicas count, over the steady part of each run; and what one InferenceAware decision costs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { ensureBuilt } from '../scripts/build.ts';
import { DEFAULT_METRIC_NAMES } from '../src/compiler/load-balancer.ts';
import { InferenceAwareBalancer } from '../src/dataplane/balancing/inference-balancer.ts';
import { Endpoint } from '../src/dataplane/endpoint.ts';
import type { UpstreamTransport } from '../src/dataplane/upstream/transport.ts';
import { NODE_FLAGS } from '../src/runtime/node-flags.ts';
// mulberry32: every policy gets the very same requests at the very same times.
import { prng } from '../test/helpers/response-fuzz.ts';
import { waitHttp } from './peers.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

export const INFERENCE_POLICIES = ['RoundRobin', 'LeastRequest', 'InferenceAware'] as const;
type Policy = (typeof INFERENCE_POLICIES)[number];

/** The replicas: 4, the last one at half speed, time scaled to 0.4 of a real A100 7B, 32k tokens of KV cache each. */
const REPLICAS = 4;
const SIM_ARGS = ['--replicas', String(REPLICAS), '--slow', '1', '--time-scale', '0.4', '--kv-blocks', '1536'];

export interface InferenceContext {
  readonly work: string;
  /** Seconds of arrivals per policy (the first quarter is warm-up, not counted). */
  readonly seconds: number;
  readonly port: number;
  readonly spawn: (cmd: string, args: string[], env?: Record<string, string>) => ChildProcess;
}

export interface PolicyRun {
  readonly policy: Policy;
  readonly sent: number;
  readonly completed: number;
  readonly errors: number;
  readonly ttftP50Ms: number;
  readonly ttftP99Ms: number;
  readonly e2eP99Ms: number;
  /** Completed requests per second over the counted window. */
  readonly throughput: number;
  /** Prompt tokens found in the replicas' prefix caches / prompt tokens, over the counted window. */
  readonly hitRate: number;
  /** Completions per second in a closed loop (192 clients) through this policy: the throughput it can sustain. */
  readonly capacity: number;
}

export interface InferenceResult {
  /** Open-loop arrivals per second: 80% of least request's capacity. */
  readonly rate: number;
  readonly seconds: number;
  readonly runs: PolicyRun[];
  /** µs per InferenceAware decision: with the prompt's hashing from the request body, and the pick alone. */
  readonly decisionMicros: { readonly endpoints: number; readonly withPrompt: number; readonly pickOnly: number }[];
}

// ——— the workload ———

const WORDS =
  'model server gateway request token cache prefix batch queue latency replica document contract clause answer question river mountain engine policy weight tensor kernel memory stream network signal'.split(
    ' ',
  );
const text = (random: () => number, tokens: number) => {
  const out: string[] = [];
  // About 4 characters per token: words average 6 characters with their space, so 2 words ≈ 3 tokens.
  for (let i = 0; i < Math.ceil((tokens * 4) / 6.5); i++) out.push(WORDS[Math.floor(random() * WORDS.length)]!);
  return out.join(' ');
};

interface WorkItem {
  readonly at: number;
  readonly body: string;
}

/**
 * Open-loop arrivals at `rate` per second for `seconds`: half are the next turn of one of 48 chats (4 apps' system
 * prompts of ~800 tokens, users' turns of 40–120 tokens, the model's previous answers, 8 turns then a new chat), half
 * a question about one of 6 documents of ~2,500 tokens. 16–48 tokens out.
 */
export function workload(rate: number, seconds: number, seed = 24): WorkItem[] {
  const random = prng(seed);
  const systems = Array.from({ length: 4 }, (_, i) => `You are assistant ${i}. ${text(random, 800)}`);
  const documents = Array.from({ length: 12 }, (_, i) => `Document ${i}. ${text(random, 3000)}`);
  const chats = Array.from({ length: 64 }, (_, i) => ({
    system: systems[i % systems.length]!,
    history: [] as { role: string; content: string }[],
    id: i,
    generation: 0,
  }));
  const items: WorkItem[] = [];
  let t = 0;
  for (;;) {
    t += -Math.log(1 - random()) / rate;
    if (t >= seconds) break;
    const maxTokens = 16 + Math.floor(random() * 33);
    let messages: { role: string; content: string }[];
    if (random() < 0.5) {
      const chat = chats[Math.floor(random() * chats.length)]!;
      if (chat.history.length >= 16) {
        chat.history = [];
        chat.generation++;
      }
      chat.history.push({
        role: 'user',
        content: `(chat ${chat.id}.${chat.generation}) ${text(random, 40 + Math.floor(random() * 80))}`,
      });
      messages = [{ role: 'system', content: chat.system }, ...chat.history];
      // The answer the simulator will give ("tok tok …"), part of the next turn's prompt.
      chat.history.push({ role: 'assistant', content: `tok${' tok'.repeat(maxTokens - 1)}` });
    } else {
      const doc = documents[Math.floor(random() * documents.length)]!;
      messages = [
        { role: 'system', content: 'Answer from the document.' },
        { role: 'user', content: `${doc}\n\nQuestion: ${text(random, 20)}` },
      ];
    }
    items.push({
      at: t * 1000,
      body: JSON.stringify({ model: 'sim-7b', stream: true, max_tokens: maxTokens, messages }),
    });
  }
  return items;
}

// ——— running it ———

interface Outcome {
  readonly at: number;
  readonly ttftMs: number;
  readonly e2eMs: number;
  readonly ok: boolean;
  readonly doneAt: number;
}

/** Sends one streamed chat completion; times from when it was due (open loop: a late send counts against it). */
async function send(agent: Agent, url: string, body: string, due: number): Promise<Outcome> {
  let ttft = Number.NaN;
  try {
    const res = await request(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
      dispatcher: agent,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return { at: due, ttftMs: Number.NaN, e2eMs: Number.NaN, ok: false, doneAt: performance.now() };
    }
    for await (const chunk of res.body) {
      if (Number.isNaN(ttft) && (chunk as Buffer).includes('"content"')) ttft = performance.now() - due;
    }
    const end = performance.now();
    return { at: due, ttftMs: ttft, e2eMs: end - due, ok: !Number.isNaN(ttft), doneAt: end };
  } catch {
    return { at: due, ttftMs: Number.NaN, e2eMs: Number.NaN, ok: false, doneAt: performance.now() };
  }
}

/** The replicas' prefix-cache counters (tokens queried, tokens hit), summed. */
async function cacheCounters(ports: readonly number[]): Promise<{ queries: number; hits: number }> {
  let queries = 0;
  let hits = 0;
  for (const port of ports) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    queries += Number(/^vllm:prefix_cache_queries_total\S* (\S+)$/m.exec(text)?.[1] ?? 0);
    hits += Number(/^vllm:prefix_cache_hits_total\S* (\S+)$/m.exec(text)?.[1] ?? 0);
  }
  return { queries, hits };
}

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = xs.toSorted((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** Fresh replicas and a modelgate with `policy` in front of them; stopped by `stop()`. */
async function startStack(ctx: InferenceContext, policy: Policy, slot: number) {
  const simPort = ctx.port + 100 + slot * 10;
  const sim = ctx.spawn(process.execPath, [
    join(root, 'examples/servers/vllm-simulator.ts'),
    ...SIM_ARGS,
    '--port',
    String(simPort),
  ]);
  const ports = Array.from({ length: REPLICAS }, (_, i) => simPort + i);
  for (const p of ports) await waitHttp(`http://127.0.0.1:${p}/health`);
  const config = join(ctx.work, `inference-${policy}-${slot}`);
  mkdirSync(config, { recursive: true });
  const slices = ports
    .map(
      (p, i) =>
        `---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: llm-${i}\n  labels: {kubernetes.io/service-name: llm}\naddressType: IPv4\nports: [{name: http, port: ${p}}]\nendpoints:\n  - addresses: ["127.0.0.1"]\n`,
    )
    .join('');
  writeFileSync(
    join(config, 'llm.yaml'),
    `apiVersion: modelgate.dev/v1alpha1
kind: ModelAPI
metadata: {name: llm}
spec:
  protocol: openai
  pathPrefix: /llm
  healthCheck: {active: {enabled: false}}
  timeouts: {request: 120s}
  loadBalancer: {policy: ${policy}${policy === 'InferenceAware' && process.env.BENCH_INFERENCE ? `, inference: ${process.env.BENCH_INFERENCE}` : ''}}
  versions:
    - name: v1
      backend: {service: {name: llm, port: http}}
---
apiVersion: v1
kind: Service
metadata: {name: llm}
spec:
  ports: [{name: http, port: 80}]
${slices}`,
  );
  const port = ctx.port + slot;
  const mg = ctx.spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      ensureBuilt(),
      'serve',
      '--config',
      config,
      '--port',
      String(port),
      '--admin-port',
      String(port + 50),
      '--https-port',
      String(port + 60),
      '--public-url',
      `http://127.0.0.1:${port}`,
    ],
    { MODELGATE_LOG_LEVEL: 'warn' },
  );
  await waitHttp(`http://127.0.0.1:${port}/healthz`);
  const stop = async () => {
    for (const p of [mg, sim]) if (p.exitCode === null && p.signalCode === null && p.pid) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
  };
  return { url: `http://127.0.0.1:${port}/llm/v1/chat/completions`, ports, stop };
}

/** Closed loop with many clients through least request: the completions per second the replicas sustain. */
async function calibrate(ctx: InferenceContext, seconds: number, policy: Policy, slot: number): Promise<number> {
  const stack = await startStack(ctx, policy, slot);
  const agent = new Agent({ connections: 512 });
  const items = workload(200, 30, 7);
  let next = 0;
  let completed = 0;
  const start = performance.now();
  const countFrom = start + (seconds * 1000) / 3;
  const end = start + seconds * 1000;
  const client = async () => {
    while (performance.now() < end) {
      const item = items[next++ % items.length]!;
      const o = await send(agent, stack.url, item.body, performance.now());
      if (o.ok && o.doneAt >= countFrom && o.doneAt <= end) completed++;
    }
  };
  await Promise.all(Array.from({ length: 192 }, client));
  await agent.close();
  await stack.stop();
  return completed / ((end - countFrom) / 1000);
}

async function runPolicy(
  ctx: InferenceContext,
  policy: Policy,
  slot: number,
  rate: number,
): Promise<Omit<PolicyRun, 'capacity'>> {
  const stack = await startStack(ctx, policy, slot);
  const agent = new Agent({ connections: 1024 });
  const items = workload(rate, ctx.seconds);
  const windowStart = (ctx.seconds * 1000) / 4;
  const start = performance.now();
  const pending: Promise<Outcome>[] = [];
  let countersAtWindow: Promise<{ queries: number; hits: number }> | undefined;
  setTimeout(() => {
    countersAtWindow = cacheCounters(stack.ports);
  }, windowStart);
  for (const item of items) {
    const wait = start + item.at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(send(agent, stack.url, item.body, start + item.at));
  }
  const countersAtEnd = cacheCounters(stack.ports);
  const outcomes = await Promise.all(pending);
  const [a, b] = [await countersAtWindow!, await countersAtEnd];
  await agent.close();
  await stack.stop();
  const counted = outcomes.filter((o) => o.at - start >= windowStart);
  const ok = counted.filter((o) => o.ok);
  const windowEnd = start + ctx.seconds * 1000;
  const completedInWindow = outcomes.filter((o) => o.ok && o.doneAt >= start + windowStart && o.doneAt <= windowEnd);
  return {
    policy,
    sent: counted.length,
    completed: ok.length,
    errors: counted.length - ok.length,
    ttftP50Ms: quantile(
      ok.map((o) => o.ttftMs),
      0.5,
    ),
    ttftP99Ms: quantile(
      ok.map((o) => o.ttftMs),
      0.99,
    ),
    e2eP99Ms: quantile(
      ok.map((o) => o.e2eMs),
      0.99,
    ),
    throughput: completedInWindow.length / ((windowEnd - start - windowStart) / 1000),
    hitRate: b.queries > a.queries ? (b.hits - a.hits) / (b.queries - a.queries) : 0,
  };
}

/** µs per decision, in this process: a chat body of ~4,000 tokens to hash, and the pick alone. */
function decisionCost(endpoints: number): { endpoints: number; withPrompt: number; pickOnly: number } {
  const passive = { consecutiveFailures: 5, ejectionTimeMs: 10_000, maxEjectionPercent: 50 };
  const eps = Array.from(
    { length: endpoints },
    (_, i) => new Endpoint(`http://10.0.0.${i}:8000`, {} as UpstreamTransport, true, passive),
  );
  const now = Date.now();
  for (const [i, e] of eps.entries())
    e.reported = { waiting: i % 3, running: 8 + i, kvCache: 0.3, at: now, activeAtScrape: 0 };
  const balancer = new InferenceAwareBalancer(eps, {
    metrics: {
      path: '/metrics',
      intervalMs: 200,
      timeoutMs: 200,
      staleMs: 60_000,
      maxBytes: 1 << 20,
      ...DEFAULT_METRIC_NAMES,
    },
    weights: { queue: 2, kvCache: 2, inflight: 1, prefix: 3 },
    prefix: { blockSize: 256, maxBlocks: 128, capacity: 100_000, loadBound: 1.25 },
  });
  const items = workload(100, 20, 3).map((w) => Buffer.from(w.body));
  const n = 20_000;
  let t = performance.now();
  for (let i = 0; i < n; i++) balancer.pick(now, undefined, balancer.promptOf(items[i % items.length]!));
  const withPrompt = ((performance.now() - t) * 1000) / n;
  const prompts = items.map((b) => balancer.promptOf(b));
  t = performance.now();
  for (let i = 0; i < n; i++) balancer.pick(now, undefined, prompts[i % prompts.length]);
  const pickOnly = ((performance.now() - t) * 1000) / n;
  return { endpoints, withPrompt, pickOnly };
}

export async function inferenceScenario(ctx: InferenceContext): Promise<InferenceResult> {
  const decisionMicros = [4, 16, 64].map(decisionCost);
  // Tuning runs: BENCH_INFERENCE_RATE skips the calibration, BENCH_INFERENCE_POLICIES picks policies.
  const only = process.env.BENCH_INFERENCE_POLICIES?.split(',');
  const policies = INFERENCE_POLICIES.filter((p) => !only || only.includes(p));
  const capacities: Partial<Record<Policy, number>> = {};
  if (!process.env.BENCH_INFERENCE_RATE) {
    for (const [i, policy] of policies.entries()) {
      capacities[policy] = await calibrate(ctx, Math.max(15, ctx.seconds / 2), policy, i);
      process.stdout.write(`inference | ${policy}: capacity (closed loop) ${capacities[policy]!.toFixed(1)} req/s\n`);
    }
  }
  const rate = Number(process.env.BENCH_INFERENCE_RATE ?? 0) || 0.8 * (capacities.LeastRequest ?? 0);
  process.stdout.write(`inference | open loop at ${rate.toFixed(1)} req/s (80% of least request's capacity)\n`);
  const runs: PolicyRun[] = [];
  for (const [i, policy] of policies.entries()) {
    const run = {
      ...(await runPolicy(ctx, policy, i + policies.length, rate)),
      capacity: capacities[policy] ?? Number.NaN,
    };
    runs.push(run);
    process.stdout.write(
      `inference | ${policy}: TTFT p50 ${run.ttftP50Ms.toFixed(0)} ms p99 ${run.ttftP99Ms.toFixed(0)} ms, e2e p99 ${run.e2eP99Ms.toFixed(0)} ms, ${run.throughput.toFixed(1)} req/s, hit rate ${(run.hitRate * 100).toFixed(1)}%, errors ${run.errors}\n`,
    );
  }
  return { rate, seconds: ctx.seconds, runs, decisionMicros };
}

/** Runs the scenario alone: `node bench/inference.ts [seconds]` (the full benchmark runs it as `inference`). */
if (import.meta.main) {
  const children: ChildProcess[] = [];
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const work = mkdtempSync(join(tmpdir(), 'modelgate-inference-'));
  const result = await inferenceScenario({
    work,
    seconds: Number(process.argv[2] ?? 40),
    port: 28100,
    spawn: (cmd, args, env = {}) => {
      const p = spawn(cmd, args, {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, ...env },
      });
      children.push(p);
      return p;
    },
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
}
