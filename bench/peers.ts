/**
 * Everything the benchmark compares, started the same way: one process (or one worker) each, in front of the same
 * upstream, keep-alive to it, no access logs, no response buffering (modelgate streams, so the peers must too).
 * Native peers come from Debian packages, Node peers from npm; each writes its config into the run's work directory.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../scripts/build.ts';
import { NODE_FLAGS } from '../src/runtime/node-flags.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** A started peer. */
export interface RunningPeer {
  readonly name: string;
  /** Base URL; requests use the upstream path below it. */
  readonly base: string;
  /** Prefix the proxy puts before upstream paths (modelgate: its public path). */
  readonly pathFor: (upstreamPath: string) => string;
  readonly proc: ChildProcess;
}

/** How to start one peer. */
export interface Peer {
  readonly name: string;
  readonly kind: 'baseline' | 'modelgate' | 'native' | 'node';
  /** Debian package it needs, if any. */
  readonly apt?: string;
  start(ctx: PeerContext): Promise<RunningPeer>;
}

/** What a peer gets to start. */
export interface PeerContext {
  readonly work: string;
  readonly upstreamPort: number;
  readonly port: number;
  /** Extra environment (e.g. worker counts). */
  readonly workers: number;
  readonly spawn: (cmd: string, args: string[], env?: Record<string, string>) => ChildProcess;
  /** Extra Node flags for Node peers (the profile scenario turns the CPU profiler on). */
  readonly nodeFlags?: readonly string[];
  /** modelgate only: with the access log on (its lines go to standard output, which the bench discards). */
  readonly accessLog?: boolean;
  /** modelgate only: with tracing on, exporting to this OTLP/HTTP endpoint. */
  readonly tracing?: { readonly otlpEndpoint: string; readonly samplingRatio: number };
}

const same = (p: string) => p;

/** Waits until `url` answers (any status). */
export async function waitHttp(url: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${url} never answered`);
}

function nodePeer(name: string, script: string, prefix = ''): Peer {
  return {
    name,
    kind: 'node',
    async start(ctx) {
      const args = [...(ctx.nodeFlags ?? []), join(root, script), String(ctx.port), String(ctx.upstreamPort)];
      const proc = ctx.spawn(process.execPath, args);
      const base = `http://127.0.0.1:${ctx.port}`;
      await waitHttp(`${base}${prefix}/healthz`);
      return { name, base, pathFor: (p) => `${prefix}${p}`, proc };
    },
  };
}

/** modelgate in file mode with one ModelAPI of each kind the scenarios use. */
export function modelgateConfig(
  dir: string,
  upstreamPort: number,
  options: { accessLog?: boolean; tracing?: PeerContext['tracing'] } = {},
): void {
  mkdirSync(dir, { recursive: true });
  // A self-signed certificate for the HTTPS listener of the TLS scenario (the load tool does not verify it).
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'tls.key'),
      '-out',
      join(dir, 'tls.crt'),
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const pem = (f: string) => readFileSync(join(dir, f), 'utf8').replace(/^/gm, '    ');
  writeFileSync(
    join(dir, 'tls.yaml'),
    `apiVersion: v1\nkind: Secret\nmetadata: {name: bench-tls}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n${pem('tls.crt')}\n  tls.key: |\n${pem('tls.key')}\n`,
  );
  writeFileSync(
    join(dir, 'bench.yaml'),
    `apiVersion: modelgate.dev/v1alpha1
kind: ModelAPI
metadata: {name: bench}
spec:
  protocol: openapi
  pathPrefix: /m
  versions:
    - name: v1
      backend: {url: "http://127.0.0.1:${upstreamPort}"}
  timeouts: {request: 60s, idle: 60s}
---
# The same upstream with policies on (the "policies on" scenario): an API key and a rate limit too large to bite.
apiVersion: modelgate.dev/v1alpha1
kind: ModelAPI
metadata: {name: bench-policies}
spec:
  protocol: openapi
  pathPrefix: /p
  versions:
    - name: v1
      backend: {url: "http://127.0.0.1:${upstreamPort}"}
  timeouts: {request: 60s, idle: 60s}
  auth: {providers: [bench-keys]}
  rateLimit: {requests: 100000000, per: 1s}
---
# The same upstream as an OpenAI-compatible API (the "OpenAI endpoint" scenario): called at its own prefix /o/v1/…
# and through the gateway's /v1, which reads the body to find the model. The alias names the model without discovery.
apiVersion: modelgate.dev/v1alpha1
kind: ModelAPI
metadata: {name: bench-openai}
spec:
  protocol: openai
  pathPrefix: /o
  modelAliases: [{name: bench, model: bench}]
  versions:
    - name: v1
      backend: {url: "http://127.0.0.1:${upstreamPort}"}
  timeouts: {request: 60s, idle: 60s}
---
apiVersion: modelgate.dev/v1alpha1
kind: ModelGateway
metadata: {name: bench}
spec:
  tls: {certificates: [{name: bench-tls}], http2: false}
${options.accessLog ? '  accessLog: {}\n' : ''}${options.tracing ? `  tracing: {otlpEndpoint: "${options.tracing.otlpEndpoint}", samplingRatio: ${options.tracing.samplingRatio}}\n` : ''}  auth:
    providers:
      - name: bench-keys
        apiKey: {secrets: [{name: bench-keys}]}
---
apiVersion: v1
kind: Secret
metadata: {name: bench-keys}
stringData: {bench: ${BENCH_API_KEY}}
`,
  );
}

/** The API key the policies scenario sends. */
export const BENCH_API_KEY = 'bench-key-0123456789';

export const PEERS: readonly Peer[] = [
  {
    name: 'direct',
    kind: 'baseline',
    async start(ctx) {
      // The upstream itself: the proc is a placeholder that owns nothing.
      const proc = ctx.spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)']);
      return { name: 'direct', base: `http://127.0.0.1:${ctx.upstreamPort}`, pathFor: same, proc };
    },
  },
  {
    name: 'modelgate',
    kind: 'modelgate',
    async start(ctx) {
      const variant = ctx.accessLog ? '-access-log' : ctx.tracing ? `-tracing-${ctx.tracing.samplingRatio}` : '';
      const config = join(ctx.work, `modelgate${variant}`);
      modelgateConfig(config, ctx.upstreamPort, {
        accessLog: ctx.accessLog === true,
        ...(ctx.tracing ? { tracing: ctx.tracing } : {}),
      });
      const adminPort = ctx.port + 1000;
      const args = [...NODE_FLAGS, ...(ctx.nodeFlags ?? []), ensureBuilt(), 'serve', '--config', config];
      args.push('--port', String(ctx.port));
      args.push('--https-port', String(ctx.port + 2000), '--public-url', `http://127.0.0.1:${ctx.port}`);
      args.push('--admin-port', String(adminPort));
      if (ctx.workers > 1) args.push('--workers', String(ctx.workers));
      const proc = ctx.spawn(process.execPath, args, { MODELGATE_LOG_LEVEL: 'warn' });
      await waitHttp(`http://127.0.0.1:${ctx.port}/m/healthz`);
      return { name: 'modelgate', base: `http://127.0.0.1:${ctx.port}`, pathFor: (p) => `/m${p}`, proc };
    },
  },
  {
    name: 'nginx',
    kind: 'native',
    apt: 'nginx-light',
    async start(ctx) {
      const dir = join(ctx.work, 'nginx');
      mkdirSync(join(dir, 'tmp'), { recursive: true });
      writeFileSync(
        join(dir, 'nginx.conf'),
        `worker_processes ${ctx.workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  client_body_buffer_size 128k;
  keepalive_requests 10000000;
  upstream up { server 127.0.0.1:${ctx.upstreamPort}; keepalive 256; keepalive_requests 10000000; }
  server {
    listen 127.0.0.1:${ctx.port};
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`,
      );
      const proc = ctx.spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]);
      const base = `http://127.0.0.1:${ctx.port}`;
      await waitHttp(`${base}/healthz`);
      return { name: 'nginx', base, pathFor: same, proc };
    },
  },
  {
    name: 'haproxy',
    kind: 'native',
    apt: 'haproxy',
    async start(ctx) {
      const file = join(ctx.work, 'haproxy.cfg');
      writeFileSync(
        file,
        `global
  nbthread ${ctx.workers}
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  option http-no-delay
  http-reuse always
frontend fe
  bind 127.0.0.1:${ctx.port}
  default_backend be
backend be
  server s1 127.0.0.1:${ctx.upstreamPort}
`,
      );
      const proc = ctx.spawn('haproxy', ['-f', file, '-db']);
      const base = `http://127.0.0.1:${ctx.port}`;
      await waitHttp(`${base}/healthz`);
      return { name: 'haproxy', base, pathFor: same, proc };
    },
  },
  {
    name: 'caddy',
    kind: 'native',
    apt: 'caddy',
    async start(ctx) {
      const file = join(ctx.work, 'Caddyfile');
      writeFileSync(
        file,
        `{
  admin off
  auto_https off
}
http://127.0.0.1:${ctx.port} {
  reverse_proxy 127.0.0.1:${ctx.upstreamPort} {
    flush_interval -1
  }
}
`,
      );
      // GOMAXPROCS caps the Go scheduler at the same number of cores as the others' workers.
      const proc = ctx.spawn('caddy', ['run', '--config', file, '--adapter', 'caddyfile'], {
        GOMAXPROCS: String(ctx.workers),
        HOME: ctx.work,
        XDG_DATA_HOME: ctx.work,
        XDG_CONFIG_HOME: ctx.work,
      });
      const base = `http://127.0.0.1:${ctx.port}`;
      await waitHttp(`${base}/healthz`);
      return { name: 'caddy', base, pathFor: same, proc };
    },
  },
  nodePeer('node-floor', 'bench/peers/node-floor.ts'),
  nodePeer('fast-gateway', 'bench/peers/fast-gateway.ts', '/gw'),
  nodePeer('fastify-http-proxy', 'bench/peers/fastify-proxy.ts'),
  nodePeer('http-proxy', 'bench/peers/http-proxy.ts'),
];

/** Spawns a child that is stopped with the run (by its pid). */
export function spawner(children: ChildProcess[]) {
  return (cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess => {
    const proc = spawn(cmd, args, {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ...env },
    });
    children.push(proc);
    return proc;
  };
}
