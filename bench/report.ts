/** Writes bench/RESULTS.md from one run: tables per scenario, ratios, and every target of the benchmark issue. */

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../src/runtime/node-flags.ts';
import type { InferenceResult } from './inference.ts';
import { type Measurement, median, pairedRatio } from './load.ts';
import { PARTS, type ProfileResult } from './profile.ts';
import type { RobustnessResult } from './robustness.ts';
import type { DocsResult, ScaleResult } from './scale.ts';

/** Everything one run measured. */
export interface Report {
  seconds: number;
  reps: number;
  peers: string[];
  /** `pinned`: load tool, upstream and peer shared one core. */
  load: { id: string; title: string; runs: Record<string, Measurement[]>; pinned?: boolean }[];
  policies: Record<string, Measurement[]> | undefined;
  /** The OpenAI endpoint (`/v1`) vs the ModelAPI's own prefix. */
  openai?: Record<string, Measurement[]> | undefined;
  /** First event of a streamed chat completion (ms), through /v1 and through the prefix. */
  openaiFirstByte?: Record<string, number[]> | undefined;
  tls?: Record<string, Measurement[]> | undefined;
  sse:
    | Record<string, { ttfbMs: number; delayMs: number; delayP99Ms: number; reads: number; events: number }[]>
    | undefined;
  scale: ScaleResult[] | undefined;
  docs: DocsResult | undefined;
  workers: { count: number; runs: Record<string, Measurement[]> } | undefined;
  profile: { connections: number; results: ProfileResult[] }[] | undefined;
  robustness?: RobustnessResult | undefined;
  inference?: InferenceResult | undefined;
}

const NODE_PEERS = ['node-floor', 'fast-gateway', 'fastify-http-proxy', 'http-proxy'];
const f = (n: number, d = 0) => n.toFixed(d);
const spread = (xs: number[], d = 0) => `${f(median(xs), d)} (${f(Math.min(...xs), d)}–${f(Math.max(...xs), d)})`;

/** First line a tool prints about its version (some print it on stderr, wrk exits 1). */
function version(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout || r.stderr || '?'}`.split('\n')[0]!.trim();
}

/** Renders and writes the report; returns its text. */
export function writeReport(r: Report, elapsedS: number): string {
  const lines: string[] = [
    '# Benchmark results',
    '',
    '<!-- written by `npm run bench` (bench/run.ts); do not edit by hand -->',
    '',
    `- date: ${new Date().toISOString()}; the whole run took ${f(elapsedS / 60, 1)} min`,
    `- machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${f(totalmem() / 2 ** 30)} GiB`,
    `- node ${process.version}; ${version('nginx', ['-v'])}; ${version('haproxy', ['-v'])}; caddy ${version('caddy', ['version'])}; ${version('wrk', ['--version'])}`,
    `- load: wrk (1 thread, separate process, 127.0.0.1), ${r.seconds} s per measurement, ${r.reps} interleaved repetitions (every peer once per round, the order rotating each round), median shown with (min–max); every ratio (columns × …, targets) is the median of the per-round ratios, both sides measured in the same round`,
    '- every peer: one process / one worker (nginx `worker_processes 1`, HAProxy `nbthread 1`, Caddy `GOMAXPROCS=1`), keep-alive to the upstream, no access log, no response buffering',
    '- upstream: one node:http process (bench/upstream.ts) answering a 200-byte V2 response, or streaming SSE',
    `- modelgate: file mode, one ModelAPI (\`protocol: openapi\`, prefix \`/m\` stripped), default settings (metrics, request ids, header hygiene, retries, passive health on); started like every launcher starts it (\`${NODE_FLAGS.join(' ')}\`); CPU = cores used by the process tree; CPU µs / req = its CPU time per answered request (the work a request costs, less sensitive than req/s to how the machine schedules three busy processes on two cores)`,
    '',
  ];
  const targets: { what: string; value: string; ok: boolean | undefined }[] = [];
  const rpsOf = (runs: Record<string, Measurement[]>, name: string) => median((runs[name] ?? []).map((m) => m.rps));
  const rpsList = (ms: readonly Measurement[] | undefined) => (ms ?? []).map((m) => m.rps);
  const ratioOf = (runs: Record<string, Measurement[]>, a: string, b: string) =>
    pairedRatio(rpsList(runs[a]), rpsList(runs[b]));

  for (const s of r.load) {
    const bestNode = NODE_PEERS.reduce((best, n) => (rpsOf(s.runs, n) > rpsOf(s.runs, best) ? n : best));
    lines.push(
      `## ${s.title}`,
      '',
      ...(s.pinned
        ? [
            'Load tool, upstream and peer share one core (taskset): with one request at a time nothing runs in parallel, and on this VM a wake-up across cores (a halted virtual CPU) costs 0.2–1 ms at random, which would decide the figure rather than the peers.',
            '',
          ]
        : []),
      '| target | req/s median (min–max) | p50 ms | p99 ms | CPU | CPU µs / req | RSS MB | × direct | × nginx | × best Node peer |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const name of r.peers) {
      const ms = s.runs[name];
      if (!ms) continue;
      const errors = ms.reduce((a, m) => a + m.errors, 0);
      lines.push(
        `| ${name === 'modelgate' ? '**modelgate**' : name} | ${spread(ms.map((m) => m.rps))}${errors ? ` (${errors} errors)` : ''} | ${f(median(ms.map((m) => m.p50)), 3)} | ${f(median(ms.map((m) => m.p99)), 3)} | ${f(median(ms.map((m) => m.cpu)), 2)} | ${f(median(ms.map((m) => (m.rps > 0 ? (m.cpu * 1e6) / m.rps : 0))))} | ${f(median(ms.map((m) => m.rssMB)))} | ${f(ratioOf(s.runs, name, 'direct'), 2)} | ${f(ratioOf(s.runs, name, 'nginx'), 2)} | ${f(ratioOf(s.runs, name, bestNode), 2)} |`,
      );
    }
    lines.push('');
    if (s.id === 'post-64') {
      const ratio = (peer: string, min: number) =>
        targets.push({
          what: `200 B POST, 64 connections: modelgate ≥ ${min}× ${peer}`,
          value: `${f(ratioOf(s.runs, 'modelgate', peer), 2)}×`,
          ok: ratioOf(s.runs, 'modelgate', peer) >= min,
        });
      ratio('fast-gateway', 1.5);
      ratio('node-floor', 1.0);
      ratio('caddy', 1.0);
      ratio('nginx', 0.33);
    }
    if (s.id === 'post-1') {
      const direct = median(s.runs.direct!.map((m) => m.p50));
      const addedBy = (peer: string) => (s.runs[peer] ? median(s.runs[peer].map((m) => m.p50)) - direct : Number.NaN);
      const added = addedBy('modelgate');
      // The featureless node:http + undici proxy is the floor of a Node process in the path: its own added latency in
      // the same run says how much of the target a Node gateway can reach on this machine at all.
      const floor = addedBy('node-floor');
      lines.push(
        `Added p50 latency at 1 connection: modelgate ${f(added, 3)} ms; the bare Node floor ${f(floor, 3)} ms; nginx ${f(addedBy('nginx'), 3)} ms.`,
        '',
      );
      targets.push({
        what: 'added p50 latency at 1 connection ≤ 0.2 ms',
        value: `${f(added, 3)} ms (bare Node floor: ${f(floor, 3)} ms)`,
        ok: added <= 0.2,
      });
    }
  }

  if (r.tls) {
    lines.push(
      '## The cost of TLS: modelgate over HTTPS vs HTTP (200 B POST, 64 keep-alive connections, interleaved)',
      '',
      'HTTPS: TLS 1.3 (ECDHE, AES-GCM) terminated by modelgate with a P-256 certificate, HTTP/1.1 to the load tool.',
      '',
      '| modelgate | req/s median (min–max) | p50 ms | p99 ms | CPU |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const name of ['http', 'https']) {
      const ms = r.tls[name] ?? [];
      lines.push(
        `| ${name} | ${spread(ms.map((m) => m.rps))} | ${f(median(ms.map((m) => m.p50)), 3)} | ${f(median(ms.map((m) => m.p99)), 3)} | ${f(median(ms.map((m) => m.cpu)), 2)} |`,
      );
    }
    const ratio = ratioOf(r.tls, 'https', 'http');
    lines.push('', `HTTPS throughput is ${f(ratio, 2)}× plain HTTP in this run.`, '');
  }
  if (r.policies) {
    const bare = r.policies.bare ?? [];
    const on = r.policies.policies ?? [];
    const logged = r.policies['access log'] ?? [];
    const traced = r.policies.tracing ?? [];
    const unsampled = r.policies['tracing unsampled'] ?? [];
    lines.push(
      '## modelgate bare, with policies, with the access log, with tracing (200 B POST, 64 connections, interleaved)',
      '',
      'Policies on: an API key checked against a Secret (sha256 lookup), a token-bucket rate limit too large to bite, metrics as always. Access log: a second modelgate process with `spec.accessLog: {}` (every field, every request; lines to standard output, which the benchmark discards), measured in turns with the others. Tracing: two more processes with `spec.tracing` exporting over OTLP/HTTP to a sink process, one recording every request (a server span and a client span each), one configured with sampling ratio 0 (spans not recorded; new span ids still passed on).',
      '',
      '| modelgate | req/s median (min–max) | p50 ms | p99 ms | CPU |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const [name, ms] of [
      ['bare', bare],
      ['policies on', on],
      ...(logged.length > 0 ? [['access log on', logged] as const] : []),
      ...(traced.length > 0 ? [['tracing, every request', traced] as const] : []),
      ...(unsampled.length > 0 ? [['tracing configured, unsampled', unsampled] as const] : []),
    ] as const) {
      lines.push(
        `| ${name} | ${spread(ms.map((m) => m.rps))} | ${f(median(ms.map((m) => m.p50)), 3)} | ${f(median(ms.map((m) => m.p99)), 3)} | ${f(median(ms.map((m) => m.cpu)), 2)} |`,
      );
    }
    lines.push('');
    const ratio = pairedRatio(rpsList(on), rpsList(bare));
    targets.push({
      what: 'policies on (API key, rate limit, metrics) ≥ 0.85× bare',
      value: `${f(ratio, 2)}×`,
      ok: ratio >= 0.85,
    });
    for (const [what, ms, floor] of [
      ['access log on (every request, every field)', logged, 0.9],
      ['tracing on, every request sampled', traced, 0.8],
      ['tracing configured, nothing sampled', unsampled, 0.97],
    ] as const) {
      if (ms.length === 0) continue;
      const ratio = pairedRatio(rpsList(ms), rpsList(bare));
      targets.push({ what: `${what} ≥ ${floor}× bare`, value: `${f(ratio, 2)}×`, ok: ratio >= floor });
    }
  }

  if (r.openai) {
    lines.push(
      '## A chat completion through the OpenAI endpoint (/v1) vs the ModelAPI’s own prefix (64 connections, interleaved)',
      '',
      'The same OpenAI-compatible ModelAPI and upstream, the same ~100 B request: at `/o/v1/chat/completions` the ModelAPI’s own phases read the body (token metering); at `/v1/chat/completions` the gateway reads and parses it first to find the model, then continues with the buffered body through the same phases.',
      '',
      '| route | req/s median (min–max) | p50 ms | p99 ms | CPU |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const name of ['prefix', '/v1']) {
      const ms = r.openai[name] ?? [];
      lines.push(
        `| ${name} | ${spread(ms.map((m) => m.rps))} | ${f(median(ms.map((m) => m.p50)), 3)} | ${f(median(ms.map((m) => m.p99)), 3)} | ${f(median(ms.map((m) => m.cpu)), 2)} |`,
      );
    }
    lines.push('');
    const ratio = pairedRatio(rpsList(r.openai['/v1'] ?? []), rpsList(r.openai.prefix ?? []));
    targets.push({ what: 'chat completion via /v1 ≥ 0.9× via the prefix', value: `${f(ratio, 2)}×`, ok: ratio >= 0.9 });
    const fb = r.openaiFirstByte;
    if (fb && (fb.prefix?.length ?? 0) > 0 && (fb['/v1']?.length ?? 0) > 0) {
      const added = median(fb['/v1']!) - median(fb.prefix!);
      lines.push(
        `Streamed (\`stream: true\`, 50 events 5 ms apart): first event through /v1 ${f(median(fb['/v1']!), 3)} ms, through the prefix ${f(median(fb.prefix!), 3)} ms (medians of ${fb.prefix!.length} runs of ${12} streams).`,
        '',
      );
      targets.push({
        what: 'streamed first event via /v1 within 0.3 ms of the prefix',
        value: `${added >= 0 ? '+' : ''}${f(added, 3)} ms`,
        ok: added <= 0.3,
      });
    }
  }

  if (r.sse) {
    lines.push(
      '## SSE: 50 events, 5 ms apart (12 sequential streams per measurement, after 2 uncounted ones)',
      '',
      'Delay = when an event arrives at the client minus when the upstream wrote it (same clock). Reads = separate reads the client saw for the events: fewer reads than events means chunks were held back and merged.',
      '',
      '| target | first byte ms | event delay p50 ms | event delay p99 ms | reads / events |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const name of r.peers) {
      const rs = r.sse[name];
      if (!rs) continue;
      lines.push(
        `| ${name === 'modelgate' ? '**modelgate**' : name} | ${spread(
          rs.map((x) => x.ttfbMs),
          2,
        )} | ${f(median(rs.map((x) => x.delayMs)), 3)} | ${f(median(rs.map((x) => x.delayP99Ms)), 3)} | ${rs.reduce((a, x) => a + x.reads, 0)} / ${rs.reduce((a, x) => a + x.events, 0)} |`,
      );
    }
    lines.push('');
    const ttfb = (n: string) => median(r.sse![n]!.map((x) => x.ttfbMs));
    const added = ttfb('modelgate') - ttfb('direct');
    targets.push({ what: 'SSE first byte ≤ 1 ms over direct', value: `+${f(added, 3)} ms`, ok: added <= 1 });
    const mg = r.sse.modelgate!;
    const merged = (rs: readonly { events: number; reads: number }[]) => rs.reduce((a, x) => a + x.events - x.reads, 0);
    const heldBack = merged(mg);
    const directMerged = merged(r.sse.direct!);
    const events = mg.reduce((a, x) => a + x.events, 0);
    const delay = median(mg.map((x) => x.delayMs)) - median(r.sse.direct!.map((x) => x.delayMs));
    const p99 = median(mg.map((x) => x.delayP99Ms));
    const directP99 = median(r.sse.direct!.map((x) => x.delayP99Ms));
    // A proxy that holds chunks back delays an event until the next one (5 ms later) and merges it with that one. A
    // rare merge the direct path shows too is the machine's scheduling (a process descheduled across two events), not
    // buffering: those are allowed up to the direct path's count plus 1% of the events. The delay's tail is judged
    // against the direct path's in the same run, since a slow minute of the machine stretches every peer's p99.
    targets.push({
      what: 'SSE: no chunk held back',
      value: `${heldBack} of ${events} events merged into another read (direct: ${directMerged}); +${f(delay, 3)} ms per event, p99 ${f(p99, 3)} ms (direct: ${f(directP99, 3)} ms)`,
      ok: heldBack <= directMerged + Math.ceil(events / 100) && delay < 1 && p99 < directP99 + 5,
    });
  }

  if (r.inference) {
    const inf = r.inference;
    lines.push(
      '## Inference-aware balancing: 4 simulated vLLM replicas (one 2× slower), shared-prefix chat and document workload',
      '',
      `The replicas: examples/servers/vllm-simulator.ts (continuous batching, 32 sequences, chunked prefill of 2,048 tokens a step at 0.1 ms per uncached token, a decode step of 15 ms + 0.25 ms per sequence, a prefix cache in 24,576 tokens of KV cache; time × 0.4; the fourth replica at half speed), fresh for each run. The workload (bench/inference.ts): half multi-turn chats (64, under 4 system prompts of ~800 tokens, 8 turns each), half questions about 12 documents of ~3,000 tokens; 16–48 tokens out, streamed; the same requests at the same times for every policy. Capacity: completions per second in a closed loop of 192 clients through that policy. Then open-loop Poisson arrivals at ${f(inf.rate, 1)} req/s (80% of least request's capacity) for ${inf.seconds} s; the first quarter is warm-up, not counted. TTFT = first content event at the client, from when the request was due. Hit rate: prompt tokens the replicas found in their prefix caches (their vllm:prefix_cache_* counters).`,
      '',
      '| policy | capacity req/s | TTFT p50 ms | TTFT p99 ms | end-to-end p99 ms | completed req/s | prefix-cache hit rate | errors |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const run of inf.runs) {
      lines.push(
        `| ${run.policy === 'InferenceAware' ? '**InferenceAware**' : run.policy} | ${f(run.capacity, 1)} | ${f(run.ttftP50Ms)} | ${f(run.ttftP99Ms)} | ${f(run.e2eP99Ms)} | ${f(run.throughput, 1)} | ${f(run.hitRate * 100, 1)}% | ${run.errors} |`,
      );
    }
    lines.push(
      '',
      `One InferenceAware decision (in-process; a chat body of up to ~4,000 tokens parsed and its prefix hashed, then scored against every endpoint): ${inf.decisionMicros.map((d) => `${d.endpoints} endpoints ${f(d.withPrompt, 1)} µs (the pick alone ${f(d.pickOnly, 1)} µs)`).join('; ')}.`,
      '',
    );
    const by = (p: string) => inf.runs.find((x) => x.policy === p);
    const ia = by('InferenceAware');
    const lr = by('LeastRequest');
    const rr = by('RoundRobin');
    if (ia && lr && rr) {
      const ttft = ia.ttftP99Ms / lr.ttftP99Ms;
      targets.push({
        what: 'inference: InferenceAware p99 TTFT ≤ 0.5× least request',
        value: `${f(ttft, 2)}×`,
        ok: ttft <= 0.5,
      });
      const hits = ia.hitRate / rr.hitRate;
      targets.push({
        what: 'inference: InferenceAware prefix-cache hit rate ≥ 2× round robin',
        value: `${f(hits, 2)}× (${f(ia.hitRate * 100, 1)}% vs ${f(rr.hitRate * 100, 1)}%)`,
        ok: hits >= 2,
      });
      const best = Math.max(lr.capacity, rr.capacity);
      targets.push({
        what: 'inference: InferenceAware capacity not lower than the others’',
        value: `${f(ia.capacity, 1)} req/s (least request ${f(lr.capacity, 1)}, round robin ${f(rr.capacity, 1)})`,
        ok: ia.capacity >= best,
      });
      const slowest = Math.max(...inf.decisionMicros.map((d) => d.withPrompt));
      targets.push({
        what: 'inference: one decision costs microseconds (≤ 100 µs with the prompt’s hashing)',
        value: `${f(slowest, 1)} µs`,
        ok: slowest <= 100,
      });
    }
  }

  if (r.scale) {
    lines.push(
      '## 10 vs 10,000 ModelAPIs (one modelgate process each, 64 connections, one API in the middle of the table)',
      '',
      "Both processes run for the whole scenario. Steady state: measured in turns, the order alternating each round. Then full reloads (the whole directory reread and recompiled, timed until the change answers), each followed by a measurement half as long (the traffic right after it, while the reload's garbage is still around). RSS after the reloads.",
      '',
      '| ModelAPIs | req/s median (min–max) | p50 ms | start until serving ms | full reload ms (each rep) | req/s right after a reload | RSS MB |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const s of r.scale) {
      lines.push(
        `| ${s.apis} | ${spread(s.runs.map((m) => m.rps))} | ${f(median(s.runs.map((m) => m.p50)), 3)} | ${f(s.startMs)} | ${s.reloadMs.map((x) => f(x)).join(', ')} | ${spread(s.afterReload.map((m) => m.rps))} | ${f(s.rssMB)} |`,
      );
    }
    lines.push('');
    const small = r.scale.find((s) => s.apis === 10)!;
    const big = r.scale.find((s) => s.apis === 10_000)!;
    const loss = 1 - pairedRatio(rpsList(big.runs), rpsList(small.runs));
    targets.push({
      what: '10,000 ModelAPIs: ≤ 10% throughput loss vs 10',
      value: `${f(loss * 100, 1)}%`,
      ok: loss <= 0.1,
    });
    targets.push({
      what: '10,000 ModelAPIs: full reload ≤ 1 s',
      value: `${f(median(big.reloadMs))} ms`,
      ok: median(big.reloadMs) <= 1000,
    });
    targets.push({ what: '10,000 ModelAPIs: RSS ≤ 300 MB', value: `${f(big.rssMB)} MB`, ok: big.rssMB <= 300 });
  }

  if (r.docs) {
    const d = r.docs;
    lines.push(
      `## Docs plane: ${d.documents} model documents`,
      '',
      `- merging ${d.documents} V2 model documents: ${spread(d.mergeMs, 1)} ms`,
      `- a full compile of the ${d.documents} APIs from new resource objects (nothing reused), docs included: ${spread(d.compileMs, 1)} ms, of which the docs pass (sources, rendering, merged + per-API + per-version documents; the difference to the same compile with docs hidden): ${spread(d.docsPassMs, 1)} ms`,
      `- \`GET /openapi.json\` (${f(d.bytes / 1024)} KiB, 64 connections): ${spread(d.json.map((m) => m.rps))} req/s; with a matching \`If-None-Match\` (304): ${spread(d.notModified.map((m) => m.rps))} req/s`,
      '',
    );
    targets.push({
      what: `merging ${d.documents} model documents ≤ 200 ms`,
      value: `${f(median(d.mergeMs), 1)} ms`,
      ok: median(d.mergeMs) <= 200,
    });
    targets.push({
      what: '`/openapi.json` served from cache with ETag',
      value: `${f(median(d.json.map((m) => m.rps)))} req/s, 304s at ${f(median(d.notModified.map((m) => m.rps)))} req/s`,
      ok: true,
    });
  }

  if (r.robustness) {
    const b = r.robustness;
    const quiet = (k: 'p50' | 'p99' | 'max') => median(b.quiet.map((m) => m[k] ?? 0));
    const busy = (k: 'p50' | 'p99' | 'max') => median(b.ingesting.map((m) => m[k] ?? 0));
    lines.push(
      '## Large inputs',
      '',
      `Traffic (200 B POST, 1 connection) while the gateway takes in a new ${f(b.documentBytes / 1024 / 1024, 1)} MB upstream document on every 1 s refresh (parsed, checked and normalised in the document worker), next to the same with a small document:`,
      '',
      '| | p50 ms | p99 ms | slowest request ms |',
      '| --- | --- | --- | --- |',
      `| small document | ${f(quiet('p50'), 3)} | ${f(quiet('p99'), 3)} | ${f(quiet('max'), 1)} |`,
      `| a new 9 MB document every second | ${f(busy('p50'), 3)} | ${f(busy('p99'), 3)} | ${f(busy('max'), 1)} |`,
      '',
      `Resident memory (the whole process) with one ModelAPI: ${f(b.baselineMB)} MB; then with each configuration and a few seconds after it was removed (once reloads settle the gateway collects and, when what is live fell below half of the heap's high-water mark, has V8 release the pages it pooled — src/runtime/memory-return.ts):`,
      '',
      '| configuration | RSS with it, MB | RSS after it was removed, MB |',
      '| --- | --- | --- |',
      ...b.memory.map(
        (m) => `| ${m.label} (${f(m.configBytes / 1024 / 1024, 1)} MB of YAML) | ${f(m.loadedMB)} | ${f(m.afterMB)} |`,
      ),
      '',
    );
    targets.push({
      what: 'a 9 MB document coming in: the slowest request ≤ 500 ms',
      value: `${f(busy('max'), 1)} ms (small document: ${f(quiet('max'), 1)} ms)`,
      ok: busy('max') <= 500,
    });
    const ten = b.memory.find((m) => m.label === '10 MB');
    const again = b.memory.find((m) => m.label === '10 MB again');
    if (ten && again)
      targets.push({
        what: 'a removed 10 MB configuration leaves nothing behind: a second load and removal keeps RSS within 10% of the first',
        value: `${f(again.afterMB)} MB after the second (${f(ten.loadedMB)} MB with the first; baseline ${f(b.baselineMB)} MB)`,
        ok: again.afterMB <= ten.loadedMB * 1.1,
      });
  }

  if (r.workers) {
    lines.push(
      `## Multi-worker: ${r.workers.count} workers each (128 connections)`,
      '',
      '| target | req/s median (min–max) | p50 ms | p99 ms | CPU | RSS MB |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const [name, ms] of Object.entries(r.workers.runs)) {
      lines.push(
        `| ${name} ×${r.workers.count} | ${spread(ms.map((m) => m.rps))} | ${f(median(ms.map((m) => m.p50)), 3)} | ${f(median(ms.map((m) => m.p99)), 3)} | ${f(median(ms.map((m) => m.cpu)), 2)} | ${f(median(ms.map((m) => m.rssMB)))} |`,
      );
    }
    lines.push('');
  }

  if (r.profile) {
    const perRequest = (p: ProfileResult) =>
      p.measurement.rps > 0 ? (p.measurement.cpu / p.measurement.rps) * 1e6 : 0;
    for (const { connections, results } of r.profile) {
      lines.push(
        `## Where the time goes (200 B POST, ${connections === 1 ? '1 connection' : `${connections} connections`}, V8 CPU profiler on)`,
        '',
        "Each peer's busy samples (start-up left out) by part, as CPU µs per request (the profiled measurement's CPU time divided among its requests) and share. Socket writes are the kernel's send path; on loopback that includes the receiving side's TCP work.",
        ...(connections === 1
          ? [
              '',
              'One request at a time (load tool, upstream and peer on one core, as above): nothing overlaps, so what a request costs the proxy is (apart from the little done after the response has left) time the client waits. The featureless floor shows what any Node process in the path costs per request.',
            ]
          : []),
        '',
        `| part | ${results.map((p) => `${p.name} µs / req (share)`).join(' | ')} |`,
        `| --- | ${results.map(() => '---').join(' | ')} |`,
      );
      for (const part of PARTS)
        lines.push(
          `| ${part} | ${results.map((p) => `${f(perRequest(p) * p.shares[part])} (${f(p.shares[part] * 100)}%)`).join(' | ')} |`,
        );
      lines.push(
        `| **total** | ${results.map((p) => `${f(perRequest(p))} (${f(p.measurement.rps)} req/s${connections === 1 ? `, p50 ${f(p.measurement.p50, 3)} ms` : ''})`).join(' | ')} |`,
        '',
      );
    }
  }

  lines.push('## Targets', '', '| target | this run | met |', '| --- | --- | --- |');
  for (const t of targets)
    lines.push(`| ${t.what} | ${t.value} | ${t.ok === undefined ? '—' : t.ok ? 'yes' : '**no**'} |`);
  lines.push('');
  const text = `${lines.join('\n')}\n`;
  writeFileSync(fileURLToPath(new URL('RESULTS.md', import.meta.url)), text);
  return text;
}
