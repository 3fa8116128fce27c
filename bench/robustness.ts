/**
 * Robustness figures: what large inputs cost the traffic and the memory.
 * - a 9 MB upstream document taken in again and again (a new one on every 1 s refresh) while one client sends
 *   requests, next to the same with a small document: p50, p99 and worst latency of the traffic;
 * - resident memory with a 1 MB and a 10 MB configuration, after each is removed again, and through a second 10 MB
 *   cycle: RSS returns close to where it was before each (runtime/memory-return.ts has V8 release its pooled pages
 *   once the reloads settle), and does not climb across cycles.
 */
import { type ChildProcess, spawn as spawnProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../scripts/build.ts';
import { NODE_FLAGS } from '../src/runtime/node-flags.ts';
import { largeConfig, openapiApiYaml } from '../test/helpers/large-config.ts';
import { type Measurement, processTree, rssMB, wrk } from './load.ts';
import { waitHttp } from './peers.ts';
import type { ScaleContext } from './scale.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface RobustnessResult {
  readonly documentBytes: number;
  /** Traffic with a small document refreshed every second. */
  readonly quiet: Measurement[];
  /** Traffic while a new 9 MB document is taken in every second. */
  readonly ingesting: Measurement[];
  /** RSS (MB): the small configuration, then with each large one and after it was removed. */
  readonly memory: {
    readonly label: string;
    readonly configBytes: number;
    readonly loadedMB: number;
    readonly afterMB: number;
  }[];
  readonly baselineMB: number;
}

async function until(check: () => Promise<boolean>, ms = 180_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the gateway did not reach the expected state');
}

const apiCount = async (admin: string) =>
  ((await (await fetch(`${admin}/config`)).json()) as { snapshot?: { apis: unknown[] } }).snapshot?.apis.length ?? 0;

export async function robustnessScenario(ctx: ScaleContext, lua: string): Promise<RobustnessResult> {
  const dir = join(ctx.work, 'robustness');
  mkdirSync(dir, { recursive: true });
  const docServer = spawnProcess(process.execPath, [join(root, 'bench/document-server.ts'), '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const docPort = await new Promise<number>((resolve) =>
    docServer.stdout!.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))),
  );
  writeFileSync(join(dir, 'm.yaml'), openapiApiYaml('m', ctx.upstreamPort));
  writeFileSync(
    join(dir, 'documented.yaml'),
    openapiApiYaml('documented', docPort, '  docs: {discover: true, refreshInterval: 1s}\n'),
  );
  const listen = 18400;
  const proc: ChildProcess = ctx.spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      ensureBuilt(),
      'serve',
      '--config',
      dir,
      '--port',
      String(listen),
      '--admin-port',
      String(listen + 1000),
    ],
    { MODELGATE_LOG_LEVEL: 'warn' },
  );
  const admin = `http://127.0.0.1:${listen + 1000}`;
  const url = `http://127.0.0.1:${listen}/m/v2/models/bench/infer`;
  try {
    await waitHttp(`${admin}/healthz`, 120_000);
    await until(async () => (await fetch(url, { method: 'POST', body: '{}' })).status === 200);
    const mode = (m: string) =>
      fetch(`http://127.0.0.1:${docPort}/mode/${m}`, { method: 'POST' }).then((r) => r.text());
    await mode('big');
    const documentBytes = Buffer.byteLength(await (await fetch(`http://127.0.0.1:${docPort}/openapi.json`)).text());
    await mode('small');
    wrk(url, 1, 2, lua);
    const quiet: Measurement[] = [];
    const ingesting: Measurement[] = [];
    for (let rep = 0; rep < ctx.reps; rep++) {
      await mode('small');
      await new Promise((r) => setTimeout(r, 1500));
      quiet.push(wrk(url, 1, ctx.seconds, lua, proc.pid));
      await mode('big');
      await new Promise((r) => setTimeout(r, 500));
      ingesting.push(wrk(url, 1, ctx.seconds, lua, proc.pid));
      process.stdout.write(
        `robustness | rep ${rep + 1}: p99 ${quiet.at(-1)!.p99} ms quiet, ${ingesting.at(-1)!.p99} ms while a 9 MB document comes in (max ${quiet.at(-1)!.max} / ${ingesting.at(-1)!.max} ms)\n`,
      );
    }
    await mode('small');
    // Memory: the small configuration, then 1 MB and 10 MB configurations, each removed again.
    rmSync(join(dir, 'documented.yaml'));
    await until(async () => (await apiCount(admin)) === 1);
    await new Promise((r) => setTimeout(r, 3000));
    const baselineMB = rssMB(processTree(proc.pid!));
    const memory: RobustnessResult['memory'] = [];
    for (const [label, bytes] of [
      ['1 MB', 1024 * 1024],
      ['10 MB', 10 * 1024 * 1024],
      ['10 MB again', 10 * 1024 * 1024],
    ] as const) {
      const { text, count } = largeConfig(bytes, ctx.upstreamPort);
      writeFileSync(join(dir, 'large.yaml'), text);
      await until(async () => (await apiCount(admin)) === count + 1);
      await new Promise((r) => setTimeout(r, 3000));
      const loadedMB = rssMB(processTree(proc.pid!));
      rmSync(join(dir, 'large.yaml'));
      await until(async () => (await apiCount(admin)) === 1);
      await new Promise((r) => setTimeout(r, 10_000));
      const afterMB = rssMB(processTree(proc.pid!));
      memory.push({ label, configBytes: Buffer.byteLength(text), loadedMB, afterMB });
      process.stdout.write(
        `robustness | ${label} configuration: ${loadedMB.toFixed(0)} MB, after removal ${afterMB.toFixed(0)} MB\n`,
      );
    }
    return { documentBytes, quiet, ingesting, memory, baselineMB };
  } finally {
    process.kill(proc.pid!, 'SIGTERM');
    process.kill(docServer.pid!, 'SIGTERM');
  }
}
