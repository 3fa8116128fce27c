/**
 * Where the time goes: modelgate and the bare Node floor under the POST (64 connections, and one) with V8's CPU
 * profiler on, their samples sorted into parts — socket writes (the kernel's send path, on loopback also the
 * receiver's), reads and the event loop, garbage collection, Node's own HTTP/stream/timer code, libraries, the proxy's
 * own code — and turned into CPU µs per request with the CPU time the same measurement used. It is what the results say about a target
 * Node cannot reach: how much of a request is the gateway's to save.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Measurement, pinProcesses, wrk } from './load.ts';
import type { Peer, PeerContext } from './peers.ts';

/** The parts, in the order the report lists them. */
export const PARTS = [
  'socket writes (syscalls)',
  'reads, event loop, native',
  'garbage collection',
  "Node's HTTP, streams, timers",
  'libraries (node_modules)',
  "the proxy's own code",
] as const;
type Part = (typeof PARTS)[number];

/** One profiled peer. */
export interface ProfileResult {
  readonly name: string;
  readonly measurement: Measurement;
  /** Share of the busy samples by part (0–1). */
  readonly shares: Readonly<Record<Part, number>>;
}

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

// The profiler writes its file when the process exits normally: a SIGINT must end it with process.exit().
const EXIT_ON_SIGINT = `data:text/javascript,${encodeURIComponent("process.on('SIGINT', () => process.exit(0));")}`;
const WRITES = /^write(v|Buffer|Utf8String|Latin1String|Generic)$/;
const STARTUP = /node:internal\/(modules|main)\//;

/** Sorts the busy samples of a profile into parts (start-up and idle samples left out). */
export function profileShares(profile: CpuProfile): Record<Part, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const partOf = new Map<number, Part | undefined>();
  const classify = (id: number): Part | undefined => {
    if (partOf.has(id)) return partOf.get(id);
    const { functionName: f, url } = byId.get(id)!.callFrame;
    let part: Part | undefined;
    if (f === '(idle)' || f === '(root)') part = undefined;
    else if (f === '(garbage collector)') part = 'garbage collection';
    else if (f === '(program)') part = 'reads, event loop, native';
    else if (url === '' && WRITES.test(f)) part = 'socket writes (syscalls)';
    else if (url === '') part = 'reads, event loop, native';
    else if (url.startsWith('node:')) part = "Node's HTTP, streams, timers";
    else if (url.includes('/node_modules/')) part = 'libraries (node_modules)';
    else part = "the proxy's own code";
    const underStartup = [...ancestors(id, parent)].some((a) => STARTUP.test(byId.get(a)!.callFrame.url));
    const result = underStartup ? undefined : part;
    partOf.set(id, result);
    return result;
  };
  const totals = Object.fromEntries(PARTS.map((p) => [p, 0])) as Record<Part, number>;
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const part = classify(id);
    if (part === undefined) return;
    const dt = profile.timeDeltas[i] ?? 0;
    totals[part] += dt;
    busy += dt;
  });
  for (const p of PARTS) totals[p] = busy > 0 ? totals[p] / busy : 0;
  return totals;
}

function* ancestors(id: number, parent: ReadonlyMap<number, number>): Generator<number> {
  for (let up = parent.get(id); up !== undefined; up = parent.get(up)) yield up;
}

/** Profiles each peer in turn under `connections` connections for `seconds` (after a short warm-up). */
export async function profileScenario(
  ctx: Omit<PeerContext, 'nodeFlags' | 'port'> & { readonly seconds: number; readonly lua: string },
  peers: readonly Peer[],
  path: string,
  connections: number,
  /** Binds the peer and the load tool to these cores (taskset syntax) for the measurement. */
  cpus?: string,
): Promise<ProfileResult[]> {
  const results: ProfileResult[] = [];
  let port = 18500;
  for (const peer of peers) {
    const dir = join(ctx.work, `profile-${peer.name}-${connections}`);
    mkdirSync(dir, { recursive: true });
    const running = await peer.start({
      ...ctx,
      port: port++,
      nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', EXIT_ON_SIGINT],
    });
    const url = running.base + running.pathFor(path);
    wrk(url, 64, 2, ctx.lua); // the JIT warms up on the same path whatever the measured concurrency
    const unpin = cpus ? pinProcesses([running.proc.pid!], cpus) : undefined;
    const measurement = wrk(url, connections, ctx.seconds, ctx.lua, running.proc.pid, cpus);
    unpin?.();
    const exited = new Promise((resolve) => running.proc.once('exit', resolve));
    running.proc.kill('SIGINT');
    await exited;
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`${peer.name} wrote no CPU profile`);
    const shares = profileShares(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile);
    results.push({ name: peer.name, measurement, shares });
    process.stdout.write(`profile | ${connections} connections | ${peer.name}: ${measurement.rps.toFixed(0)} req/s\n`);
  }
  return results;
}
