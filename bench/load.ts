/** Load generation (wrk, a separate process) and per-process-tree CPU and memory from /proc. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** One measurement. */
export interface Measurement {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** The slowest request (ms). */
  readonly max?: number;
  /** Cores used by the measured process tree during the run. */
  readonly cpu: number;
  readonly rssMB: number;
  readonly errors: number;
}

/** The pid and all its descendants. */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(parents.get(out[i]!) ?? []));
  return out;
}

/** CPU seconds (user + system) of a process tree. */
export function cpuSeconds(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // gone
    }
  }
  return total;
}

/** Resident memory of a process tree, in MB. */
export function rssMB(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

/** Runs wrk for `seconds` with a Lua script and measures the process tree of `pid` meanwhile. */
export function wrk(
  url: string,
  connections: number,
  seconds: number,
  lua: string,
  pid?: number,
  cpus?: string,
): Measurement {
  const pids = pid ? processTree(pid) : [];
  const cpuBefore = cpuSeconds(pids);
  const args = ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--latency', '-s', lua, url];
  const out = execFileSync(cpus ? 'taskset' : 'wrk', cpus ? ['-c', cpus, 'wrk', ...args] : args, {
    encoding: 'utf8',
    timeout: (seconds + 30) * 1000,
  });
  const cpu = pids.length > 0 ? (cpuSeconds(pids) - cpuBefore) / seconds : 0;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const pct = (p: string) => toMs(new RegExp(`\\s${p}%\\s+([\\d.]+\\w+)`).exec(out)?.[1] ?? '0ms');
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  const max = toMs(/Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+\w+)/.exec(out)?.[1] ?? '0ms');
  return { rps, p50: pct('50'), p99: pct('99'), max, cpu, rssMB: rssMB(pids), errors };
}

function toMs(v: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(v);
  if (!m) return 0;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

/**
 * Binds every thread of the given processes and their descendants to `cpus` (taskset syntax, e.g. "0" or "0-1").
 * Returns what undoes it: every core again.
 */
export function pinProcesses(pids: readonly number[], cpus: string): () => void {
  const all = `0-${availableParallelism() - 1}`;
  const set = (list: string) => {
    for (const root of pids)
      for (const pid of processTree(root)) {
        try {
          execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
        } catch {
          // the process ended meanwhile
        }
      }
  };
  set(cpus);
  return () => set(all);
}

/** The median of a list. */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * How many times `a` is `b`, from measurements taken round by round (index i of both lists is round i): the median of
 * the per-round ratios. This machine's speed drifts by tens of percent between minutes (a shared host); the two sides
 * of one round saw the same minutes, so their ratio keeps what a ratio of two medians from different minutes loses.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (b[i]! > 0) ratios.push(a[i]! / b[i]!);
  return median(ratios);
}

/** Installs Debian packages that are missing (the benchmark brings its own peers). */
export function ensureApt(packages: readonly string[]): void {
  const missing = packages.filter((p) => {
    try {
      execFileSync('dpkg', ['-s', p], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  process.stdout.write(`installing ${missing.join(' ')} (Debian packages)…\n`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}
