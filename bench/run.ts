/**
 * `npm run bench`: modelgate against its real peers in ONE run — direct to the upstream, nginx, HAProxy and Caddy
 * (Debian packages), fast-gateway, @fastify/http-proxy, http-proxy and a hand-written node:http + undici proxy (npm) —
 * with interleaved repetitions (every peer once per round, the order rotating) and medians, load from wrk in a separate process on 127.0.0.1.
 * Every peer runs one process / one worker, except in the multi-worker scenario. Installs what it needs itself.
 * Writes bench/RESULTS.md (never edit it by hand). Everything started here is stopped by its pid at the end.
 *
 *   BENCH_SECONDS=5 BENCH_REPS=3 BENCH_ONLY=post-1,post-64 npm run bench
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inferenceScenario } from './inference.ts';
import { ensureApt, type Measurement, median, pinProcesses, wrk } from './load.ts';
import { BENCH_API_KEY, PEERS, type RunningPeer, spawner } from './peers.ts';
import { profileScenario } from './profile.ts';
import { type Report, writeReport } from './report.ts';
import { robustnessScenario } from './robustness.ts';
import { docsScenario, scaleScenario } from './scale.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
// Five short rounds rather than three long ones: this machine's speed drifts by tens of percent between minutes
// (shared hosts), and a median of five interleaved rounds follows that drift better.
const REPS = Number(process.env.BENCH_REPS ?? 5);
const ONLY = process.env.BENCH_ONLY?.split(',');
// Six seconds of 64-connection load is 20–30k requests for a Node peer: well past V8's optimising tiers.
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 6);
const children: ChildProcess[] = [];
/**
 * Cores a measurement binds load tool, upstream and peer to (taskset syntax), if any. One request at a time runs
 * nothing in parallel, and on this VM a wake-up across cores (a halted virtual CPU) costs 0.2–1 ms at random — it would
 * decide the figure: the one-connection measurements share core 0.
 */
const coresFor = (connections: number): string | undefined => (connections === 1 ? '0' : undefined);

const REQUEST_BODY = JSON.stringify({
  id: 'bench-0001',
  inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }],
  parameters: { content_type: 'np', note: 'two hundred bytes of inference request, padded' },
});

/** A throughput scenario: one wrk configuration run against every peer. */
interface LoadScenario {
  readonly id: string;
  readonly title: string;
  readonly connections: number;
  readonly lua: string;
  readonly path: string;
}

function luaPost(work: string, name: string, body: string): string {
  const file = join(work, `${name}.lua`);
  writeFileSync(
    file,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["content-type"] = "application/json"\n`,
  );
  return file;
}

async function startUpstream(): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [join(root, 'bench/upstream.ts'), '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(proc);
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.once('data', (c: Buffer) => resolve(Number(c.toString().trim())));
    proc.once('exit', (code) => reject(new Error(`upstream exited with ${code}`)));
  });
  return { port, proc };
}

/** Streams per SSE measurement (after two warm-up streams the probe does not count). */
const SSE_STREAMS = 12;

function sseProbe(
  url: string,
  streams: number,
  body?: string,
): { ttfbMs: number; delayMs: number; delayP99Ms: number; reads: number; events: number } {
  const args = [join(root, 'bench/sse-probe.ts'), url, String(streams), ...(body === undefined ? [] : [body])];
  const out = execFileSync(process.execPath, args, {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out);
}

async function main(): Promise<void> {
  const started = Date.now();
  ensureApt(['wrk', ...new Set(PEERS.flatMap((p) => (p.apt ? [p.apt] : [])))]);
  const work = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  const upstream = await startUpstream();
  const spawnChild = spawner(children);
  const peers: RunningPeer[] = [];
  let port = 18100;
  for (const peer of PEERS) {
    peers.push(await peer.start({ work, upstreamPort: upstream.port, port: port++, workers: 1, spawn: spawnChild }));
    process.stdout.write(`started ${peer.name}\n`);
  }
  const pidOf = (p: RunningPeer) => (p.name === 'direct' ? upstream.proc.pid : p.proc.pid);

  const scenarios: LoadScenario[] = [
    {
      id: 'post-1',
      title: '200 B JSON POST (a V2 infer), 1 connection',
      connections: 1,
      lua: luaPost(work, 'post', REQUEST_BODY),
      path: '/v2/models/bench/infer',
    },
    {
      id: 'post-64',
      title: '200 B JSON POST (a V2 infer), 64 connections',
      connections: 64,
      lua: luaPost(work, 'post', REQUEST_BODY),
      path: '/v2/models/bench/infer',
    },
    {
      id: 'body-64k',
      title: '64 KiB JSON POST, 16 connections',
      connections: 16,
      lua: luaPost(
        work,
        'big',
        JSON.stringify({ inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], data: ['x'.repeat(65_500)] }] }),
      ),
      path: '/v2/models/bench/infer',
    },
  ].filter((s) => !ONLY || ONLY.includes(s.id));

  const report: Report = {
    seconds: SECONDS,
    reps: REPS,
    peers: PEERS.map((p) => p.name),
    load: [],
    policies: undefined,
    sse: undefined,
    scale: undefined,
    docs: undefined,
    workers: undefined,
    profile: undefined,
    robustness: undefined,
  };

  // Warm-up: JIT (V8 needs several seconds of this load to reach its optimised code), connection pools.
  const warmLua = luaPost(work, 'post', REQUEST_BODY);
  for (const p of peers) wrk(p.base + p.pathFor('/v2/models/bench/infer'), 64, WARMUP, warmLua);

  for (const s of scenarios) {
    const runs: Record<string, Measurement[]> = {};
    const cpus = coresFor(s.connections);
    const unpin = cpus ? pinProcesses([upstream.proc.pid!, ...peers.map((p) => p.proc.pid!)], cpus) : undefined;
    for (let rep = 0; rep < REPS; rep++) {
      for (const p of rotate(peers, rep)) {
        const m = wrk(p.base + p.pathFor(s.path), s.connections, SECONDS, s.lua, pidOf(p), cpus);
        append(runs, p.name, m);
        process.stdout.write(
          `${s.id} | ${p.name} | rep ${rep + 1}: ${m.rps.toFixed(0)} req/s, p50 ${m.p50.toFixed(3)} ms${m.errors ? `, ${m.errors} errors` : ''}\n`,
        );
      }
    }
    unpin?.();
    report.load.push({ id: s.id, title: s.title, runs, pinned: cpus !== undefined });
  }

  // Policies on (API key + rate limit, metrics as always) vs bare, both modelgate, interleaved.
  // A chat completion through the gateway's OpenAI endpoint (/v1: the body is read to find the model) vs the same
  // request at the OpenAI-compatible ModelAPI's own prefix (streamed through), same process, interleaved.
  if (!ONLY || ONLY.includes('openai')) {
    const mg = peers.find((p) => p.name === 'modelgate')!;
    const chat = luaPost(
      work,
      'chat',
      JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about the sea.' }] }),
    );
    const paths: Record<string, string> = { prefix: '/o/v1/chat/completions', '/v1': '/v1/chat/completions' };
    for (const path of Object.values(paths)) wrk(`${mg.base}${path}`, 64, WARMUP, chat);
    const runs: Record<string, Measurement[]> = {};
    for (let rep = 0; rep < REPS; rep++) {
      const order = rep % 2 === 0 ? ['prefix', '/v1'] : ['/v1', 'prefix'];
      for (const which of order) {
        const m = wrk(`${mg.base}${paths[which]}`, 64, SECONDS, chat, mg.proc.pid);
        append(runs, which, m);
        process.stdout.write(`openai | ${which} | rep ${rep + 1}: ${m.rps.toFixed(0)} req/s\n`);
      }
    }
    report.openai = runs;
    // Streamed: the first event through /v1 (body read, parsed, routed) vs through the prefix (streamed through).
    const streamBody = JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const firstByte: Record<string, number[]> = { prefix: [], '/v1': [] };
    for (let rep = 0; rep < REPS; rep++)
      for (const which of rep % 2 === 0 ? ['prefix', '/v1'] : ['/v1', 'prefix']) {
        const r = sseProbe(`${mg.base}${paths[which]}`, SSE_STREAMS, streamBody);
        firstByte[which]!.push(r.ttfbMs);
        process.stdout.write(`openai sse | ${which} | rep ${rep + 1}: first event ${r.ttfbMs.toFixed(3)} ms\n`);
      }
    report.openaiFirstByte = firstByte;
  }

  if (!ONLY || ONLY.includes('policies')) {
    const mg = peers.find((p) => p.name === 'modelgate')!;
    const keyed = join(work, 'post-keyed.lua');
    writeFileSync(
      keyed,
      `wrk.method = "POST"\nwrk.body = ${JSON.stringify(REQUEST_BODY)}\nwrk.headers["content-type"] = "application/json"\nwrk.headers["x-api-key"] = "${BENCH_API_KEY}"\n`,
    );
    const bareLua = luaPost(work, 'post', REQUEST_BODY);
    // The same gateway again with the access log on (one JSON line per request to standard output, discarded), and
    // with tracing on — every request recorded, and configured but sampling none — exporting to an OTLP sink.
    const sink = spawn(process.execPath, [join(root, 'bench/otlp-sink.ts'), '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(sink);
    const sinkPort = await new Promise<number>((resolve) =>
      sink.stdout!.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))),
    );
    const modelgate = PEERS.find((p) => p.name === 'modelgate')!;
    const variant = (extra: { accessLog?: boolean; tracing?: { otlpEndpoint: string; samplingRatio: number } }) =>
      modelgate.start({ work, upstreamPort: upstream.port, port: port++, workers: 1, spawn: spawnChild, ...extra });
    const otlpEndpoint = `http://127.0.0.1:${sinkPort}/v1/traces`;
    const others: Record<string, RunningPeer> = {
      'access log': await variant({ accessLog: true }),
      tracing: await variant({ tracing: { otlpEndpoint, samplingRatio: 1 } }),
      'tracing unsampled': await variant({ tracing: { otlpEndpoint, samplingRatio: 0 } }),
    };
    const runs: Record<string, Measurement[]> = {};
    wrk(`${mg.base}/p/v2/models/bench/infer`, 64, WARMUP, keyed);
    for (const other of Object.values(others)) wrk(`${other.base}/m/v2/models/bench/infer`, 64, WARMUP, bareLua);
    const variants = ['bare', 'policies', ...Object.keys(others)];
    for (let rep = 0; rep < REPS; rep++) {
      // Each round starts with the next variant, so none always runs first or last.
      const order = variants.map((_, i) => variants[(i + rep) % variants.length]!);
      for (const which of order) {
        const other = others[which];
        const m = other
          ? wrk(`${other.base}/m/v2/models/bench/infer`, 64, SECONDS, bareLua, other.proc.pid)
          : which === 'bare'
            ? wrk(`${mg.base}/m/v2/models/bench/infer`, 64, SECONDS, bareLua, mg.proc.pid)
            : wrk(`${mg.base}/p/v2/models/bench/infer`, 64, SECONDS, keyed, mg.proc.pid);
        append(runs, which, m);
        process.stdout.write(
          `policies | ${which} | rep ${rep + 1}: ${m.rps.toFixed(0)} req/s${m.errors ? `, ${m.errors} errors` : ''}\n`,
        );
      }
    }
    report.policies = runs;
    for (const other of Object.values(others)) other.proc.kill('SIGTERM');
    sink.kill('SIGTERM');
  }

  // The cost of TLS: the same modelgate over HTTPS (keep-alive, TLS 1.3, HTTP/1.1) vs HTTP, interleaved.
  if (!ONLY || ONLY.includes('tls')) {
    const mg = peers.find((p) => p.name === 'modelgate')!;
    const https = mg.base.replace(
      /^http:\/\/127\.0\.0\.1:(\d+)$/,
      (_, port: string) => `https://127.0.0.1:${Number(port) + 2000}`,
    );
    const lua = luaPost(work, 'post', REQUEST_BODY);
    const runs: Record<string, Measurement[]> = {};
    wrk(`${https}/m/v2/models/bench/infer`, 64, WARMUP, lua);
    for (let rep = 0; rep < REPS; rep++) {
      const order = rep % 2 === 0 ? ['http', 'https'] : ['https', 'http'];
      for (const which of order) {
        const m = wrk(`${which === 'http' ? mg.base : https}/m/v2/models/bench/infer`, 64, SECONDS, lua, mg.proc.pid);
        append(runs, which, m);
        process.stdout.write(
          `tls | ${which} | rep ${rep + 1}: ${m.rps.toFixed(0)} req/s${m.errors ? `, ${m.errors} errors` : ''}\n`,
        );
      }
    }
    report.tls = runs;
  }

  if (!ONLY || ONLY.includes('sse')) {
    const runs: Record<string, ReturnType<typeof sseProbe>[]> = {};
    for (let rep = 0; rep < REPS; rep++) {
      for (const p of rotate(peers, rep)) {
        const r = sseProbe(p.base + p.pathFor('/sse/50/5'), SSE_STREAMS);
        append(runs, p.name, r);
        process.stdout.write(
          `sse | ${p.name} | rep ${rep + 1}: ttfb ${r.ttfbMs.toFixed(2)} ms, delay ${r.delayMs.toFixed(2)} ms, reads ${r.reads}/${r.events}\n`,
        );
      }
    }
    report.sse = runs;
  }

  for (const c of children.splice(1)) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGTERM');
  await new Promise((r) => setTimeout(r, 500));

  // Where a request's CPU time goes, in modelgate and in the featureless Node floor (peers of their own, profiler on):
  // under load (64 connections: what throughput is made of) and one request at a time (what latency is made of).
  if (!ONLY || ONLY.includes('profile')) {
    report.profile = [];
    for (const connections of [64, 1]) {
      const cpus = coresFor(connections);
      const unpin = cpus ? pinProcesses([upstream.proc.pid!], cpus) : undefined;
      report.profile.push({
        connections,
        results: await profileScenario(
          { work, upstreamPort: upstream.port, workers: 1, spawn: spawnChild, seconds: SECONDS, lua: warmLua },
          PEERS.filter((p) => p.name === 'modelgate' || p.name === 'node-floor'),
          '/v2/models/bench/infer',
          connections,
          cpus,
        ),
      });
      unpin?.();
    }
  }

  if (!ONLY || ONLY.includes('scale'))
    report.scale = await scaleScenario({
      work,
      upstreamPort: upstream.port,
      seconds: SECONDS,
      reps: REPS,
      lua: luaPost(work, 'post', REQUEST_BODY),
      spawn: spawnChild,
    });
  if (!ONLY || ONLY.includes('docs'))
    report.docs = await docsScenario({
      work,
      upstreamPort: upstream.port,
      seconds: SECONDS,
      reps: REPS,
      lua: '',
      spawn: spawnChild,
    });

  if (!ONLY || ONLY.includes('robustness'))
    report.robustness = await robustnessScenario(
      { work, upstreamPort: upstream.port, seconds: SECONDS, reps: REPS, lua: '', spawn: spawnChild },
      luaPost(work, 'post', REQUEST_BODY),
    );

  if (!ONLY || ONLY.includes('workers')) {
    const workers = 2;
    const multi: RunningPeer[] = [];
    for (const name of ['modelgate', 'nginx']) {
      const peer = PEERS.find((p) => p.name === name)!;
      multi.push(await peer.start({ work, upstreamPort: upstream.port, port: port++, workers, spawn: spawnChild }));
    }
    const runs: Record<string, Measurement[]> = {};
    const lua = luaPost(work, 'post', REQUEST_BODY);
    for (const p of multi) wrk(p.base + p.pathFor('/v2/models/bench/infer'), 16, 2, lua);
    for (let rep = 0; rep < REPS; rep++) {
      for (const p of multi) {
        const m = wrk(p.base + p.pathFor('/v2/models/bench/infer'), 128, SECONDS, lua, p.proc.pid);
        append(runs, p.name, m);
        process.stdout.write(`workers | ${p.name} ×${workers} | rep ${rep + 1}: ${m.rps.toFixed(0)} req/s\n`);
      }
    }
    report.workers = { count: workers, runs };
  }

  if (!ONLY || ONLY.includes('inference'))
    report.inference = await inferenceScenario({
      work,
      seconds: Math.max(20, SECONDS * 8),
      port: port + 100,
      spawn: spawnChild,
    });

  const text = writeReport(report, (Date.now() - started) / 1000);
  process.stdout.write(`\n${text}`);
  rmSync(work, { recursive: true, force: true });
}

/**
 * The peers in a different order each round (A B C, B C A, C A B …): no peer always follows the same one, so what a
 * run leaves behind in the shared upstream (a GC, a cooled cache) does not always land on the same peer.
 */
function rotate<T>(list: readonly T[], round: number): T[] {
  const k = round % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/** Adds a measurement to a peer's list. */
function append<T>(runs: Record<string, T[]>, name: string, value: T): void {
  const list = runs[name] ?? [];
  list.push(value);
  runs[name] = list;
}

function stopAll(): void {
  // A child a scenario already stopped (the inference stacks stop their own) is left alone.
  for (const c of children)
    if (c.exitCode === null && c.signalCode === null && c.pid) {
      try {
        process.kill(c.pid, 'SIGTERM');
      } catch {
        // it exited meanwhile
      }
    }
}

main().then(
  () => stopAll(),
  (err: Error) => {
    stopAll();
    process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  },
);

export { median };
