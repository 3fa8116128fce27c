/**
 * Memory follows the configuration (issue 18, point 7): after a large configuration is removed the process hands the
 * heap pages it grew into back to the system. Before src/runtime/memory-return.ts the resident memory stayed at the
 * high-water mark for the life of the process (V8 pools freed pages and an idle or busy gateway never triggers the
 * memory-reducing collection that releases them).
 *
 * The gateway runs as its own process (`serve`, with the launcher's Node flags) so the test runner's heap is not
 * measured; resident memory is read from /proc.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NODE_FLAGS } from '../../src/runtime/node-flags.ts';
import { largeConfig, openapiApiYaml } from '../helpers/large-config.ts';
import { unusedPort } from '../helpers/upstream.ts';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;

/** Polls until `check` holds (a failed fetch counts as not yet). */
async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const rssMB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

describe('memory after the configuration shrinks', () => {
  let proc: ChildProcess | undefined;
  after(() => {
    if (proc?.exitCode === null) proc.kill('SIGTERM');
  });

  it('returns the resident memory a 6 MB configuration took once it is removed', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-memory-'));
    writeFileSync(join(dir, 'm.yaml'), openapiApiYaml('m', 9));
    const [port, adminPort] = [await unusedPort(), await unusedPort()];
    proc = spawn(
      process.execPath,
      [...NODE_FLAGS, cli, 'serve', '--config', dir, '--port', String(port), '--admin-port', String(adminPort)],
      { stdio: 'ignore', env: { ...process.env, MODELGATE_LOG_LEVEL: 'warn' } },
    );
    const pid = proc.pid!;
    const apis = async () =>
      ((await (await fetch(`http://127.0.0.1:${adminPort}/config`)).json()) as { snapshot?: { apis: unknown[] } })
        .snapshot?.apis.length ?? 0;
    assert.ok(await until(async () => (await apis()) === 1, 60_000), 'the gateway serves');
    const baseline = rssMB(pid);

    const { text, count } = largeConfig(6 * 1024 * 1024, 9);
    writeFileSync(join(dir, 'large.yaml'), text);
    assert.ok(await until(async () => (await apis()) === count + 1, 120_000), 'the large configuration applies');
    const loaded = rssMB(pid);
    assert.ok(loaded - baseline > 100, `the large configuration took memory (${baseline} → ${loaded} MB)`);

    rmSync(join(dir, 'large.yaml'));
    assert.ok(await until(async () => (await apis()) === 1, 60_000), 'the removal applies');
    // Within a few seconds of the reload settling, most of what the large configuration took is given back.
    const returned = await until(() => rssMB(pid) - baseline < (loaded - baseline) / 3, 30_000);
    assert.ok(
      returned,
      `RSS ${rssMB(pid).toFixed(0)} MB after removal; ${baseline.toFixed(0)} MB before, ${loaded.toFixed(0)} MB with it`,
    );
  });
});
