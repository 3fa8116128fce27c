/**
 * `npm run bench`: modelgate against direct-to-upstream, measured in one run with interleaved repetitions
 * (A B A B …) and medians, load from wrk in a separate process on 127.0.0.1. Writes bench/RESULTS.md.
 *
 * Scenario: a 200-byte JSON POST (an Open Inference Protocol V2 infer) at 1 and 64 connections.
 * Each measurement is bounded (DURATION seconds); everything started here is stopped by its pid at the end.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const children: ChildProcess[] = [];

const REQUEST_BODY = JSON.stringify({
  id: 'bench-0001',
  inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }],
  parameters: { content_type: 'np', note: 'two hundred bytes of inference request, padded' },
});

interface Result {
  rps: number;
  p50: number;
  p99: number;
  cpu: number;
  rssMB: number;
}

function ensureWrk(): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return; // wrk --version exits 1 but exists
    process.stdout.write('installing wrk (Debian package)…\n');
    execFileSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: 'inherit' });
  }
}

async function startProcess(
  args: string[],
  readyLine: RegExp | undefined,
  env: Record<string, string> = {},
): Promise<{ proc: ChildProcess; line: string }> {
  const proc = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  children.push(proc);
  if (!readyLine) return { proc, line: '' };
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = readyLine.exec(buf);
      if (m) resolve(m[0]);
    });
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return { proc, line };
}

async function waitHttp(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never became ready`);
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

function wrk(url: string, connections: number, luaFile: string, pid: number | undefined): Result {
  const cpuBefore = pid ? cpuSeconds(pid) : 0;
  const out = execFileSync(
    'wrk',
    ['-t', '1', '-c', String(connections), '-d', `${DURATION}s`, '--latency', '-s', luaFile, url],
    { encoding: 'utf8', timeout: (DURATION + 30) * 1000 },
  );
  const cpu = pid ? (cpuSeconds(pid) - cpuBefore) / DURATION : 0;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const pct = (p: string) => toMs(new RegExp(`\\s${p}%\\s+([\\d.]+\\w+)`).exec(out)?.[1] ?? '0ms');
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`${url}: ${non2xx[1]} non-2xx responses\n${out}`);
  return { rps, p50: pct('50'), p99: pct('99'), cpu, rssMB: pid ? rssMB(pid) : 0 };
}

function toMs(v: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(v);
  if (!m) return 0;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  ensureWrk();
  const work = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  const lua = join(work, 'post.lua');
  writeFileSync(
    lua,
    `wrk.method = "POST"\nwrk.body = '${REQUEST_BODY}'\nwrk.headers["content-type"] = "application/json"\n`,
  );
  const upstream = await startProcess(['bench/upstream.ts', '0'], /\d+\n/);
  const upstreamPort = Number(upstream.line.trim());
  const config = join(work, 'config');
  execFileSync('mkdir', ['-p', config]);
  writeFileSync(
    join(config, 'bench.yaml'),
    `apiVersion: modelgate.dev/v1alpha1
kind: ModelAPI
metadata: {name: bench}
spec:
  protocol: open-inference-v2
  versions:
    - name: v1
      backend: {url: "http://127.0.0.1:${upstreamPort}"}
  healthCheck: {active: {enabled: false}}
`,
  );
  const gatewayPort = 18080;
  const gateway = await startProcess(
    ['src/cli.ts', 'serve', '--config', config, '--port', String(gatewayPort), '--admin-port', '19901'],
    undefined,
    { MODELGATE_LOG_LEVEL: 'warn' },
  );
  await waitHttp('http://127.0.0.1:19901/readyz');

  const targets = [
    { name: 'direct', url: `http://127.0.0.1:${upstreamPort}/v2/models/bench/infer`, pid: upstream.proc.pid },
    { name: 'modelgate', url: `http://127.0.0.1:${gatewayPort}/models/bench/infer`, pid: gateway.proc.pid },
  ];
  const scenarios = [
    { name: '200 B POST, 1 connection', connections: 1 },
    { name: '200 B POST, 64 connections', connections: 64 },
  ];
  // Warm up both (JIT, connection pools).
  for (const t of targets) wrk(t.url, 16, lua, undefined);

  const results: Record<string, Record<string, Result[]>> = {};
  for (const s of scenarios) {
    results[s.name] = {};
    for (let rep = 0; rep < REPS; rep++) {
      for (const t of targets) {
        const r = wrk(t.url, s.connections, lua, t.pid);
        const runs = results[s.name]![t.name] ?? [];
        runs.push(r);
        results[s.name]![t.name] = runs;
        process.stdout.write(
          `${s.name} | ${t.name} | rep ${rep + 1}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(3)} ms\n`,
        );
      }
    }
  }

  const lines: string[] = [
    '# Benchmark results',
    '',
    '<!-- written by `npm run bench` (bench/run.ts); do not edit by hand -->',
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `- node ${process.version}; load: wrk, 1 thread, ${DURATION} s per run, ${REPS} interleaved repetitions, median shown (min–max)`,
    '- upstream: one node:http process answering a 200-byte V2 response; modelgate: one process, file mode, no policies',
    '',
  ];
  for (const s of scenarios) {
    const direct = results[s.name]!.direct!;
    lines.push(
      `## ${s.name}`,
      '',
      '| target | req/s (min–max) | p50 ms | p99 ms | CPU (cores) | RSS MB | vs direct |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const t of targets) {
      const rs = results[s.name]![t.name]!;
      const rps = rs.map((r) => r.rps);
      lines.push(
        `| ${t.name} | ${median(rps).toFixed(0)} (${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)}) | ${median(rs.map((r) => r.p50)).toFixed(3)} | ${median(rs.map((r) => r.p99)).toFixed(3)} | ${median(rs.map((r) => r.cpu)).toFixed(2)} | ${median(rs.map((r) => r.rssMB)).toFixed(0)} | ${(median(rps) / median(direct.map((r) => r.rps))).toFixed(2)}× |`,
      );
    }
    const added = median(results[s.name]!.modelgate!.map((r) => r.p50)) - median(direct.map((r) => r.p50));
    lines.push('', `Added p50 latency through modelgate: ${added.toFixed(3)} ms.`, '');
  }
  const report = `${lines.join('\n')}\n`;
  writeFileSync(join(root, 'bench', 'RESULTS.md'), report);
  process.stdout.write(`\n${report}`);
}

function stopAll(): void {
  for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGTERM');
}

main().then(
  () => stopAll(),
  (err: Error) => {
    stopAll();
    process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  },
);
