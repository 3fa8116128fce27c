/**
 * The benchmark's helpers (bench/load.ts): its ratios (`pairedRatio`: each round's two measurements are compared with
 * each other, and the median of those ratios is reported — not the ratio of two medians that may come from different
 * minutes), and binding a process tree to cores for the one-connection scenario.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { median, pairedRatio, pinProcesses } from '../../bench/load.ts';

const allowedCpus = (pid: number) =>
  /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

describe('bench ratios', () => {
  it('compares measurements of the same round and takes the median of the ratios', () => {
    // Round 2 ran in a slow minute for both sides; the ratio of medians (20 / 5 = 4) would mix rounds.
    const a = [10, 30, 20];
    const b = [5, 30, 5];
    assert.equal(pairedRatio(a, b), 2);
    assert.equal(median(a) / median(b), 4);
  });

  it('leaves out rounds where the reference answered nothing and pairs only rounds both sides have', () => {
    assert.equal(pairedRatio([8, 9, 12, 7], [4, 0, 6]), 2);
    assert.equal(pairedRatio([], [1, 2]), 0);
  });

  it('binds a process and its children to one core, and gives them every core back', async (t) => {
    if (availableParallelism() < 2) return t.skip('one core: nothing to bind');
    // A parent that starts a child: both are bound, the child found through /proc.
    const parent = spawn(
      process.execPath,
      [
        '-e',
        "require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'inherit' }); console.log('up'); setTimeout(() => {}, 30000)",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    t.after(() => parent.kill());
    await once(parent.stdout!, 'data');
    const child = Number(readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim().split(' ')[0]);
    t.after(() => process.kill(child));
    const unpin = pinProcesses([parent.pid!], '0');
    assert.equal(allowedCpus(parent.pid!), '0');
    assert.equal(allowedCpus(child), '0');
    unpin();
    assert.equal(allowedCpus(parent.pid!), `0-${availableParallelism() - 1}`);
    assert.equal(allowedCpus(child), `0-${availableParallelism() - 1}`);
  });
});
