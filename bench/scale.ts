/**
 * Scenarios about size rather than speed of one route: modelgate with 10 vs 10,000 ModelAPIs (throughput, full
 * reload time, memory), and the docs plane (merging 200 model documents; serving /openapi.json and its 304s).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../scripts/build.ts';
import { compileSnapshot } from '../src/compiler/compile.ts';
import { mergeDocuments } from '../src/openapi/merge.ts';
import { v2OpenAPIDocument } from '../src/protocols/open-inference-v2/document.ts';
import { EMPTY_RESOURCES } from '../src/resources/types.ts';
import { NODE_FLAGS } from '../src/runtime/node-flags.ts';
import type { ModelAPI } from '../src/schema/model-api.ts';
import type { DiscoveryResult } from '../src/snapshot/discovery.ts';
import { fetchKey } from '../src/snapshot/discovery.ts';
import { type Measurement, median, processTree, rssMB, wrk } from './load.ts';
import { waitHttp } from './peers.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Inputs of the scale scenarios. */
export interface ScaleContext {
  readonly work: string;
  readonly upstreamPort: number;
  readonly seconds: number;
  readonly reps: number;
  readonly lua: string;
  readonly spawn: (cmd: string, args: string[], env?: Record<string, string>) => ChildProcess;
}

/** Results per API count. */
export interface ScaleResult {
  readonly apis: number;
  /** Steady state: both processes serving, measured in turns (A B, B A, …). */
  readonly runs: Measurement[];
  /** The seconds right after each full reload. */
  readonly afterReload: Measurement[];
  readonly startMs: number;
  readonly reloadMs: number[];
  readonly rssMB: number;
}

function apisYaml(count: number, upstreamPort: number, extra = ''): string {
  const docs: string[] = [];
  for (let i = 0; i < count; i++) {
    docs.push(`apiVersion: modelgate.dev/v1alpha1
kind: ModelAPI
metadata: {name: m${i}}
spec:
  protocol: openapi
  pathPrefix: /m${i}
  versions:
    - name: v1
      backend: {url: "http://127.0.0.1:${upstreamPort}"}
`);
  }
  return docs.join('---\n') + extra;
}

/** Starts modelgate in file mode on `listen` (admin on `listen + 1000`). */
function serveModelgate(ctx: ScaleContext, dir: string, listen: number): ChildProcess {
  return ctx.spawn(
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
}

async function waitStatus(url: string, status: number, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === status) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${url} never answered ${status}`);
}

interface ScaleTarget {
  readonly count: number;
  readonly file: string;
  readonly base: string;
  readonly url: string;
  readonly proc: ChildProcess;
  readonly startMs: number;
  readonly runs: Measurement[];
  readonly afterReload: Measurement[];
  readonly reloadMs: number[];
}

async function startScaleTarget(ctx: ScaleContext, count: number, listen: number): Promise<ScaleTarget> {
  const dir = join(ctx.work, `scale-${count}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'apis.yaml');
  writeFileSync(file, apisYaml(count, ctx.upstreamPort));
  const t0 = performance.now();
  const proc = serveModelgate(ctx, dir, listen);
  const base = `http://127.0.0.1:${listen}`;
  const url = `${base}/m${Math.floor(count / 2)}/v2/models/bench/infer`;
  await waitHttp(`http://127.0.0.1:${listen + 1000}/healthz`, 120_000);
  await waitStatus(url, 200);
  return { count, file, base, url, proc, startMs: performance.now() - t0, runs: [], afterReload: [], reloadMs: [] };
}

/**
 * 10 vs 10,000 ModelAPIs, one modelgate process each, both running for the whole scenario. Throughput is measured in
 * turns (the order alternating each round) like the peers, so a slow minute of the machine does not land on one side;
 * then each process gets full reloads (the whole directory reread and recompiled, timed until the change answers),
 * each followed by a short measurement of the traffic right after it (while the reload's garbage is still around).
 */
export async function scaleScenario(ctx: ScaleContext): Promise<ScaleResult[]> {
  const targets = [await startScaleTarget(ctx, 10, 18300), await startScaleTarget(ctx, 10_000, 18301)];
  try {
    for (const t of targets) wrk(t.url, 16, 2, ctx.lua);
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const t of rep % 2 === 0 ? targets : [...targets].reverse()) {
        t.runs.push(wrk(t.url, 64, ctx.seconds, ctx.lua, t.proc.pid));
      }
      process.stdout.write(
        `scale | rep ${rep + 1}: ${targets.map((t) => `${t.count} APIs ${t.runs.at(-1)!.rps.toFixed(0)} req/s`).join(', ')}\n`,
      );
    }
    const shortSeconds = Math.max(1, Math.round(ctx.seconds / 2));
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const t of targets) {
        const marker = `/reload-${rep}`;
        const started = performance.now();
        writeFileSync(
          t.file,
          apisYaml(
            t.count,
            ctx.upstreamPort,
            `---\napiVersion: modelgate.dev/v1alpha1\nkind: ModelAPI\nmetadata: {name: r${rep}}\nspec:\n  protocol: openapi\n  pathPrefix: ${marker}\n  versions:\n    - name: v1\n      backend: {url: "http://127.0.0.1:${ctx.upstreamPort}"}\n`,
          ),
        );
        await waitStatus(`${t.base}${marker}/x`, 200);
        t.reloadMs.push(performance.now() - started);
        t.afterReload.push(wrk(t.url, 64, shortSeconds, ctx.lua, t.proc.pid));
        process.stdout.write(
          `scale | ${t.count} APIs | reload ${rep + 1}: ${t.reloadMs.at(-1)!.toFixed(0)} ms, then ${t.afterReload.at(-1)!.rps.toFixed(0)} req/s\n`,
        );
      }
    }
    return targets.map((t) => ({
      apis: t.count,
      runs: t.runs,
      afterReload: t.afterReload,
      startMs: t.startMs,
      reloadMs: t.reloadMs,
      rssMB: rssMB(processTree(t.proc.pid!)),
    }));
  } finally {
    for (const t of targets) process.kill(t.proc.pid!, 'SIGTERM');
  }
}

/** Docs plane figures. */
export interface DocsResult {
  readonly documents: number;
  readonly mergeMs: number[];
  readonly docsPassMs: number[];
  /** A full compile of the documented APIs (new resource objects), docs included. */
  readonly compileMs: number[];
  readonly json: Measurement[];
  readonly notModified: Measurement[];
  readonly bytes: number;
}

function documentedApis(
  count: number,
  upstreamPort: number,
): { apis: ModelAPI[]; discovered: Map<string, DiscoveryResult> } {
  const apis: ModelAPI[] = [];
  const discovered = new Map<string, DiscoveryResult>();
  for (let i = 0; i < count; i++) {
    const name = `model-${i}`;
    apis.push({
      apiVersion: 'modelgate.dev/v1alpha1',
      kind: 'ModelAPI',
      metadata: { name, namespace: 'default' },
      spec: {
        protocol: 'open-inference-v2',
        docs: { discover: true },
        versions: [{ name: 'v1', backend: { url: `http://127.0.0.1:${upstreamPort}` } }],
      },
    });
    discovered.set(fetchKey('v2-metadata', 'GET', `default/${name}/v1/v2/models/${name}`), {
      last: {
        body: {
          name,
          platform: 'onnx',
          inputs: [
            { name: 'input_ids', datatype: 'INT64', shape: [-1, 128] },
            { name: 'attention_mask', datatype: 'INT64', shape: [-1, 128] },
          ],
          outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 2] }],
        },
        sha256: '0',
        fetchedAt: '2026-01-01T00:00:00Z',
        location: 'bench',
      },
    });
  }
  return { apis, discovered };
}

/** Merging 200 model documents, and serving the merged one (200s and 304s) from a running gateway. */
export async function docsScenario(ctx: ScaleContext): Promise<DocsResult> {
  const count = 200;
  const { apis, discovered } = documentedApis(count, ctx.upstreamPort);
  const mergeMs: number[] = [];
  const docsPassMs: number[] = [];
  const compileMs: number[] = [];
  const parts = apis.map((api, i) => ({
    ref: `ModelAPI/default/${api.metadata.name}`,
    namespace: 'default',
    name: api.metadata.name,
    version: 'v1',
    versioned: false,
    tag: { name: api.metadata.name },
    group: 'V2',
    document: v2OpenAPIDocument({ title: api.metadata.name, basePath: `/models/${api.metadata.name}`, version: 'v1' }),
    hostnames: [],
    maxRequestBodyBytes: 1 << 20,
    index: i,
  }));
  // One uncounted round first (the compiler's code warms up), then the counted ones.
  for (let rep = -1; rep < Math.max(ctx.reps, 5); rep++) {
    let t = performance.now();
    mergeDocuments(parts, { title: 'bench', version: '1', publicURL: 'http://127.0.0.1' });
    const merged = performance.now() - t;
    // Fresh resource objects each time: the compiler reuses its work for objects it has seen, and a first load or a
    // changed configuration is what is measured here.
    const fresh = structuredClone(apis);
    t = performance.now();
    const withDocs = compileSnapshot({ ...EMPTY_RESOURCES, modelApis: fresh }, { discovered });
    const withDocsMs = performance.now() - t;
    // The docs pass alone: the same compile without documentation asked for is the baseline.
    const bare = structuredClone(apis).map((a) => ({ ...a, spec: { ...a.spec, docs: { hidden: true } } }));
    t = performance.now();
    compileSnapshot({ ...EMPTY_RESOURCES, modelApis: bare });
    const bareMs = performance.now() - t;
    if (withDocs.snapshot.docs.apis.length !== count) throw new Error('docs pass lost APIs');
    if (rep < 0) continue;
    mergeMs.push(merged);
    compileMs.push(withDocsMs);
    docsPassMs.push(withDocsMs - bareMs);
  }

  const dir = join(ctx.work, 'docs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'apis.yaml'),
    apis
      .map(
        (a) =>
          `apiVersion: modelgate.dev/v1alpha1\nkind: ModelAPI\nmetadata: {name: ${a.metadata.name}}\nspec:\n  protocol: open-inference-v2\n  versions:\n    - name: v1\n      backend: {url: "http://127.0.0.1:${ctx.upstreamPort}"}\n  healthCheck: {active: {enabled: false}}\n`,
      )
      .join('---\n'),
  );
  const listen = 18400;
  const proc = serveModelgate(ctx, dir, listen);
  const url = `http://127.0.0.1:${listen}/openapi.json`;
  await waitStatus(url, 200);
  // The uncompressed representation, as wrk asks for it (fetch would ask for brotli and get that copy's entity tag).
  const res = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
  const etag = res.headers.get('etag') ?? '';
  const bytes = (await res.arrayBuffer()).byteLength;
  const get = join(ctx.work, 'get.lua');
  writeFileSync(get, 'wrk.method = "GET"\n');
  const conditional = join(ctx.work, 'conditional.lua');
  writeFileSync(conditional, `wrk.method = "GET"\nwrk.headers["If-None-Match"] = ${JSON.stringify(etag)}\n`);
  wrk(url, 16, 2, get);
  const json: Measurement[] = [];
  const notModified: Measurement[] = [];
  for (let rep = 0; rep < ctx.reps; rep++) {
    json.push(wrk(url, 64, ctx.seconds, get, proc.pid));
    notModified.push(wrk(url, 64, ctx.seconds, conditional, proc.pid));
    process.stdout.write(
      `docs | rep ${rep + 1}: /openapi.json ${json.at(-1)!.rps.toFixed(0)} req/s, 304 ${notModified.at(-1)!.rps.toFixed(0)} req/s\n`,
    );
  }
  process.kill(proc.pid!, 'SIGTERM');
  return { documents: count, mergeMs, docsPassMs, compileMs, json, notModified, bytes };
}

export { median };
