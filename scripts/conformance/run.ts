/**
 * `npm run conformance`: the Gateway API HTTPRoute conformance cases (test/fixtures/gateway-api-conformance: the
 * upstream manifests and expectation tables as data, see its SOURCES.md) against modelgate in file mode.
 *
 * Per case: the base objects (Namespaces, the GatewayClass, the backend Services with one EndpointSlice per echo pod)
 * and the case's manifests are written into a fresh configuration directory, modelgate is started on a free loopback
 * port (and stopped by its pid), and every expectation must pass three times in a row within the timeout (upstream's
 * AwaitConvergence), all of a phase at once; a phase that deletes objects rewrites the directory and the gateway's
 * watcher takes it in. Checks as upstream (helpers in the case's SOURCES.md): status (408 and 504 alike), the echoed
 * request (path, host, method, namespace, headers joined by `,`, absent headers), response headers, the answering pod,
 * redirect targets, mirrored requests, weighted distribution, the backend header of weighted backendRef filters.
 *
 *   npm run conformance [-- --only httproute-weight,httproute-matching*] [--skip …] [--timeout 5] [--verbose]
 *
 * Prints one line per case, the expectation totals, and last `N passed, M failed`; exits 1 when a case failed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { NODE_FLAGS } from '../../src/runtime/node-flags.ts';
import { ensureBuilt } from '../build.ts';
import { canonical, type EchoPod, startEchoPod } from './echo.ts';

type Json = Record<string, unknown>;

const root = fileURLToPath(new URL('../..', import.meta.url));
const CASES = join(root, 'test/fixtures/gateway-api-conformance/cases');
const CLASS = 'modelgate';
const CONTROLLER = 'modelgate.dev/gateway-controller';
const INFRA = 'gateway-conformance-infra';
const APP = 'gateway-conformance-app-backend';
const WEB = 'gateway-conformance-web-backend';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    skip: { type: 'string' },
    timeout: { type: 'string', default: '5' },
    consecutive: { type: 'string', default: '3' },
    verbose: { type: 'boolean', default: false },
  },
});
const TIMEOUT_MS = Number(values.timeout) * 1000;
const CONSECUTIVE = Number(values.consecutive);

// ---------------------------------------------------------------------------------------------- the case format

interface Expectation {
  name?: string;
  request: { method?: string; path: string; host?: string; headers?: Record<string, string> };
  expectedRequest?: {
    method?: string;
    path?: string;
    host?: string;
    headers?: Record<string, string>;
    absentHeaders?: string[];
  };
  backendSetResponseHeaders?: Record<string, string>;
  response?: {
    statusCode?: number;
    statusCodes?: number[];
    headers?: Record<string, string>;
    absentHeaders?: string[];
  };
  backend?: string;
  namespace?: string;
  redirectRequest?: { scheme?: string; host?: string; port?: number | string; path?: string };
  mirroredTo?: { name: string; namespace: string }[];
  addRequestIdQueryParam?: boolean;
}

interface Check extends Expectation {
  type: 'weightedDistribution' | 'backendHeaderMatchesPod';
  expectedWeights?: Record<string, number>;
  totalRequests?: number;
  concurrentRequests?: number;
  tolerance?: number;
  maxRetries?: number;
  header?: string;
  count?: number;
}

interface Phase {
  name: string;
  expectations: Expectation[];
  deleteObjects?: { kind: string; namespace?: string; name: string }[];
  checks?: Check[];
}

interface Case {
  name: string;
  profile: string;
  manifests: Json[];
  phases: Phase[];
}

// ------------------------------------------------------------------------------------------------- the backends

/** The upstream base backends: Service name → namespace, and the extra named ports infra-backend-v1 has. */
const BASE_BACKENDS: { namespace: string; name: string }[] = [
  { namespace: INFRA, name: 'infra-backend-v1' },
  { namespace: INFRA, name: 'infra-backend-v2' },
  { namespace: INFRA, name: 'infra-backend-v3' },
  { namespace: APP, name: 'app-backend-v1' },
  { namespace: APP, name: 'app-backend-v2' },
  { namespace: WEB, name: 'web-backend' },
];

const pods = new Map<string, EchoPod[]>();
const podsOf = (namespace: string, service: string) => pods.get(`${namespace}/${service}`) ?? [];

function endpointSlice(namespace: string, service: string, ports: { name?: string }[], pod: EchoPod): Json {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-${pod.name.slice(-5)}`,
      namespace,
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: pod.port, protocol: 'TCP' })),
    endpoints: [
      { addresses: ['127.0.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace, name: pod.name } },
    ],
  };
}

/** Namespaces, the GatewayClass and the backend Services with their EndpointSlices, as the base manifests have them. */
function baseObjects(): Json[] {
  const objects: Json[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: INFRA, labels: { 'gateway-conformance': 'infra' } } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: APP, labels: { 'gateway-conformance': 'backend' } } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: WEB, labels: { 'gateway-conformance': 'backend' } } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: CLASS },
      spec: { controllerName: CONTROLLER },
    },
  ];
  for (const b of BASE_BACKENDS) {
    const ports: { name?: string; port: number }[] =
      b.name === 'infra-backend-v1'
        ? [
            { name: 'first-port', port: 8080 },
            { name: 'third-port', port: 8082 },
          ]
        : [{ port: 8080 }];
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: b.name, namespace: b.namespace },
      spec: { selector: { app: b.name }, ports: ports.map((p) => ({ ...p, protocol: 'TCP' })) },
    });
    for (const pod of podsOf(b.namespace, b.name)) objects.push(endpointSlice(b.namespace, b.name, ports, pod));
  }
  return objects;
}

/** The case's manifests with the placeholders filled in, and EndpointSlices for its Services that select base pods. */
function caseObjects(c: Case, port: number, deleted: Phase['deleteObjects'] = []): Json[] {
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (value === '{LISTENER_PORT}') return port;
      if (value === '{GATEWAY_CLASS_NAME}') return CLASS;
      const backendPort = /^\{BACKEND_PORT:([^/]+)\/([^}]+)\}$/.exec(value);
      if (backendPort) return podsOf(backendPort[1]!, backendPort[2]!)[0]?.port ?? 0;
      const endpoints = /^\{BACKEND_ENDPOINTS:([^/]+)\/([^}]+)\}$/.exec(value);
      if (endpoints)
        return podsOf(endpoints[1]!, endpoints[2]!).map(() => ({
          addresses: ['127.0.0.1'],
          conditions: { ready: true },
        }));
      return value;
    }
    if (Array.isArray(value)) return value.map(fill);
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  const objects = (c.manifests.map(fill) as Json[]).filter(
    (o) =>
      !deleted.some((d) => {
        const m = o.metadata as { name: string; namespace?: string };
        return d.kind === o.kind && d.name === m.name && (d.namespace ?? INFRA) === (m.namespace ?? INFRA);
      }),
  );
  // A Service of the case that selects a base backend's pods gets their EndpointSlices (the EndpointSlice controller).
  for (const o of [...objects]) {
    if (o.kind !== 'Service') continue;
    const spec = o.spec as { selector?: Record<string, string>; ports?: { name?: string }[] };
    const app = spec.selector?.app;
    const meta = o.metadata as { name: string; namespace?: string };
    const namespace = meta.namespace ?? INFRA;
    if (!app || BASE_BACKENDS.some((b) => b.name === meta.name)) continue;
    const selected = BASE_BACKENDS.find((b) => b.name === app);
    if (!selected) continue;
    for (const pod of podsOf(selected.namespace, selected.name))
      objects.push(endpointSlice(namespace, meta.name, spec.ports ?? [], pod));
  }
  return objects;
}

function writeYaml(dir: string, file: string, objects: Json[]): void {
  const temp = join(dir, `.${file}.tmp`);
  writeFileSync(temp, objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n'));
  renameSync(temp, join(dir, file)); // atomic: the gateway never reads half a file
}

// -------------------------------------------------------------------------------------------- the gateway process

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startGateway(dir: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      ensureBuilt(),
      'serve',
      '--config',
      dir,
      '--port',
      String(port),
      '--admin-port',
      '0',
      '--controller-name',
      CONTROLLER,
    ],
    {
      stdio: ['ignore', 'ignore', values.verbose ? 'inherit' : 'ignore'],
      env: { ...process.env, MODELGATE_LOG_LEVEL: 'warn' },
    },
  );
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`modelgate exited with ${child.exitCode}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('modelgate did not listen within 30 s');
}

async function stopGateway(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || !child.pid) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGTERM');
  const killer = setTimeout(() => child.exitCode === null && child.pid && process.kill(child.pid, 'SIGKILL'), 5000);
  await exited;
  clearTimeout(killer);
}

// -------------------------------------------------------------------------------------------------- one exchange

interface Answer {
  status: number;
  headers: Record<string, string[]>;
  body: string;
}

function send(port: number, e: Expectation, path: string): Promise<Answer> {
  const headers: Record<string, string> = {
    host: e.request.host ?? `127.0.0.1:${port}`,
    connection: 'close',
    'x-echo-set-header': Object.entries(e.backendSetResponseHeaders ?? {})
      .map(([k, v]) => `${k}:${v}`)
      .join(','),
  };
  for (const [k, v] of Object.entries(e.request.headers ?? {})) headers[canonical(k)] = v;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: e.request.method ?? 'GET', path, headers, agent: false, timeout: TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const out: Record<string, string[]> = {};
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = canonical(res.rawHeaders[i]!);
            out[name] = [...(out[name] ?? []), res.rawHeaders[i + 1]!];
          }
          resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks).toString() });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', reject);
    req.end();
  });
}

const withRequestId = (path: string, id: string | undefined) =>
  id === undefined ? path : `${path}${path.includes('?') ? '&' : '?'}gateway-api-conformance-request-id=${id}`;

/** Why one exchange does not meet the expectation (undefined: it does); `pod` receives the answering pod's name. */
async function judge(port: number, e: Expectation, id: string | undefined, pod?: (name: string) => void) {
  const path = withRequestId(e.request.path, id);
  let answer: Answer;
  try {
    answer = await send(port, e, path);
  } catch (err) {
    return `request failed: ${(err as Error).message}`;
  }
  const expected = e.response?.statusCodes ?? [e.response?.statusCode ?? 200];
  const timeoutLike = (s: number) => s === 408 || s === 504;
  if (!expected.includes(answer.status) && !(timeoutLike(answer.status) && expected.some(timeoutLike)))
    return `status ${answer.status}, expected ${expected.join(' or ')}`;
  const s = answer.status;
  if (s === 200 || s === 204) {
    for (const [name, value] of Object.entries(e.response?.headers ?? {})) {
      const got = answer.headers[canonical(name)]?.join(',');
      if (got !== value) return `response header ${name}: ${JSON.stringify(got)}, expected ${JSON.stringify(value)}`;
    }
    for (const name of e.response?.absentHeaders ?? [])
      if (answer.headers[canonical(name)]) return `response header ${name} should be absent`;
    const wantsEcho = e.namespace !== undefined || e.backend !== undefined || e.expectedRequest !== undefined;
    if (!wantsEcho && s === 204) return undefined;
    if (answer.headers['Content-Type']?.[0] !== 'application/json')
      return wantsEcho ? "the answer is not the echo backend's JSON" : undefined;
    const echo = JSON.parse(answer.body) as {
      path: string;
      host: string;
      method: string;
      namespace: string;
      pod: string;
      headers: Record<string, string[]>;
    };
    pod?.(echo.pod);
    const er = e.expectedRequest;
    const wantPath = withRequestId(er?.path ?? e.request.path, id);
    if (echo.path !== wantPath) return `backend got path ${echo.path}, expected ${wantPath}`;
    if (er?.host !== undefined && echo.host !== er.host) return `backend got host ${echo.host}, expected ${er.host}`;
    const wantMethod = er?.method ?? e.request.method ?? 'GET';
    if (echo.method !== wantMethod) return `backend got method ${echo.method}, expected ${wantMethod}`;
    if (e.namespace !== undefined && echo.namespace !== e.namespace)
      return `answered from namespace ${echo.namespace}, expected ${e.namespace}`;
    const wantHeaders = er ? (er.headers ?? {}) : (e.request.headers ?? {});
    for (const [name, value] of Object.entries(wantHeaders)) {
      const got = echo.headers[canonical(name)]?.join(',');
      if (got !== value) return `backend got header ${name}: ${JSON.stringify(got)}, expected ${JSON.stringify(value)}`;
    }
    for (const name of er?.absentHeaders ?? [])
      if (echo.headers[canonical(name)]) return `backend got header ${name}, which should be absent`;
    if (e.backend && !echo.pod.startsWith(e.backend)) return `answered by pod ${echo.pod}, expected ${e.backend}`;
    return undefined;
  }
  if (s >= 300 && s <= 308 && e.redirectRequest) {
    const location = answer.headers.Location?.[0];
    if (!location) return 'a redirect without Location';
    const host = e.request.host ?? `127.0.0.1:${port}`;
    const url = new URL(location, `http://${host}${path}`);
    const rr = e.redirectRequest;
    const scheme = rr.scheme ?? 'http';
    if (url.protocol !== `${scheme}:`) return `redirect scheme ${url.protocol}, expected ${scheme}`;
    if (rr.host !== undefined && url.hostname !== rr.host) return `redirect host ${url.hostname}, expected ${rr.host}`;
    const wantPath = rr.path ?? e.request.path.split('?')[0];
    if (url.pathname !== wantPath) return `redirect path ${url.pathname}, expected ${wantPath}`;
    const wantPort = rr.port === '{LISTENER_PORT}' ? String(port) : rr.port === undefined ? undefined : String(rr.port);
    if (wantPort !== undefined) {
      const got = url.port || (scheme === 'https' ? '443' : '80');
      if (got !== wantPort) return `redirect port ${got}, expected ${wantPort}`;
    } else if (url.port !== '' && url.port !== (scheme === 'https' ? '443' : '80'))
      return `redirect port ${url.port}, expected none or the scheme's`;
  }
  return undefined;
}

/** Passes once the expectation held CONSECUTIVE times in a row within the timeout (upstream AwaitConvergence). */
async function converge(port: number, e: Expectation): Promise<string | undefined> {
  const until = Date.now() + TIMEOUT_MS;
  let streak = 0;
  let last = 'not tried';
  while (Date.now() < until) {
    const id = e.addRequestIdQueryParam ? randomUUID() : undefined;
    const problem = await judge(port, e, id);
    if (problem === undefined) {
      streak++;
      if (streak >= CONSECUTIVE) return e.mirroredTo ? mirrored(e, id) : undefined;
      continue;
    }
    streak = 0;
    last = problem;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

/** Each mirror backend logged the request (with its request id) within 10 s. */
async function mirrored(e: Expectation, id: string | undefined): Promise<string | undefined> {
  const path = withRequestId(e.expectedRequest?.path ?? e.request.path, id);
  const until = Date.now() + 10_000;
  for (const m of e.mirroredTo ?? []) {
    while (!podsOf(m.namespace, m.name).some((p) => p.log.includes(path))) {
      if (Date.now() > until) return `the mirror ${m.namespace}/${m.name} never got ${path}`;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------------- checks

async function weighted(port: number, c: Check): Promise<string | undefined> {
  const weights = c.expectedWeights ?? {};
  let last = 'not tried';
  for (let attempt = 0; attempt < (c.maxRetries ?? 10); attempt++) {
    const counts = new Map<string, number>();
    let failed: string | undefined;
    let left = c.totalRequests ?? 500;
    const worker = async () => {
      while (left-- > 0 && !failed) {
        const problem = await judge(port, c, undefined, (pod) => {
          const backend = pod.split('-').slice(0, -2).join('-');
          counts.set(backend, (counts.get(backend) ?? 0) + 1);
        });
        if (problem) failed = problem;
      }
    };
    await Promise.all(Array.from({ length: c.concurrentRequests ?? 10 }, worker));
    if (failed) return failed;
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const off = Object.entries(weights).find(([backend, w]) => {
      const share = (counts.get(backend) ?? 0) / total;
      return w === 0 ? share > 0 : Math.abs(share - w) > (c.tolerance ?? 0.05);
    });
    if (!off) return undefined;
    last = `shares ${JSON.stringify(Object.fromEntries([...counts].map(([b, n]) => [b, (n / total).toFixed(3)])))}, expected ${JSON.stringify(weights)}`;
  }
  return last;
}

async function backendHeader(port: number, c: Check): Promise<string | undefined> {
  const header = canonical(c.header ?? 'Backend');
  for (let i = 0; i < (c.count ?? 100); i++) {
    let answer: Answer;
    try {
      answer = await send(port, c, c.request.path);
    } catch (err) {
      return `request failed: ${(err as Error).message}`;
    }
    if (answer.status !== 200) return `status ${answer.status}`;
    const echo = JSON.parse(answer.body) as { pod: string; headers: Record<string, string[]> };
    const values = echo.headers[header] ?? [];
    if (values.length !== 1 || !echo.pod.startsWith(values[0]!))
      return `pod ${echo.pod} got ${header}: ${JSON.stringify(values)}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------- the suite

function selected(name: string): boolean {
  const list = (v: string | undefined) => v?.split(',').filter(Boolean) ?? [];
  const matches = (pattern: string) =>
    pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
  const only = list(values.only);
  return (only.length === 0 || only.some(matches)) && !list(values.skip).some(matches);
}

async function runCase(c: Case): Promise<{ ok: number; total: number; failures: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), `conformance-${c.name}-`));
  const port = await freePort();
  writeYaml(dir, '00-base.yaml', baseObjects());
  writeYaml(dir, '10-case.yaml', caseObjects(c, port));
  let gateway: ChildProcess | undefined;
  let ok = 0;
  let total = 0;
  const failures: string[] = [];
  try {
    gateway = await startGateway(dir, port);
    let deleted: NonNullable<Phase['deleteObjects']> = [];
    for (const phase of c.phases) {
      if (phase.deleteObjects?.length) {
        deleted = [...deleted, ...phase.deleteObjects];
        writeYaml(dir, '10-case.yaml', caseObjects(c, port, deleted));
      }
      const results = await Promise.all([
        ...phase.expectations.map(async (e) => ({
          what: e.name ?? `${e.request.method ?? 'GET'} ${e.request.path}`,
          problem: await converge(port, e),
        })),
        ...(phase.checks ?? []).map(async (check) => ({
          what: check.type,
          problem:
            check.type === 'weightedDistribution' ? await weighted(port, check) : await backendHeader(port, check),
        })),
      ]);
      for (const r of results) {
        total++;
        if (r.problem === undefined) ok++;
        else failures.push(`${phase.name}: ${r.what}: ${r.problem}`);
      }
    }
  } catch (err) {
    failures.push(`runner: ${(err as Error).message}`);
  } finally {
    if (gateway) await stopGateway(gateway);
    rmSync(dir, { recursive: true, force: true });
  }
  return { ok, total, failures };
}

async function main(): Promise<number> {
  ensureBuilt();
  const cases = readdirSync(CASES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(CASES, f), 'utf8')) as Case)
    .filter((c) => selected(c.name));
  for (const b of BASE_BACKENDS) pods.set(`${b.namespace}/${b.name}`, [await startEchoPod(b.namespace, b.name)]);
  let passed = 0;
  let failed = 0;
  let okTotal = 0;
  let notOk = 0;
  try {
    for (const c of cases) {
      const started = Date.now();
      const r = await runCase(c);
      okTotal += r.ok;
      notOk += r.total - r.ok;
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (r.failures.length === 0) {
        passed++;
        process.stdout.write(`PASS ${c.name} (${r.ok}/${r.total}, ${secs}s)\n`);
      } else {
        failed++;
        process.stdout.write(`FAIL ${c.name} (${r.ok}/${r.total}, ${secs}s): ${r.failures[0]}\n`);
        for (const f of r.failures.slice(1, values.verbose ? undefined : 4)) process.stdout.write(`    ${f}\n`);
      }
    }
  } finally {
    for (const list of pods.values()) for (const p of list) await p.close();
  }
  process.stdout.write(`expectation totals: ${okTotal} ok, ${notOk} not ok\n`);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(2);
  },
);
