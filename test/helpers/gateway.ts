/** Starts a real file-mode gateway on 127.0.0.1 port 0 over a temporary config directory. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { createLogger } from '../../src/observability/logger.ts';
import { FileGateway } from '../../src/runtime/file-gateway.ts';

/** A running gateway for one test. */
export interface TestGateway {
  readonly gateway: FileGateway;
  readonly dir: string;
  readonly url: string;
  readonly adminUrl: string;
  /** Writes (or replaces) a config file and waits for the reload it causes. */
  write(file: string, yaml: string): Promise<void>;
  stop(): Promise<void>;
}

/** Writes the files, starts the gateway (watching with short delays) and returns it. */
export async function startGateway(
  files: Record<string, string>,
  options: {
    watch?: boolean;
    port?: number;
    publicURL?: string;
    stateDir?: string;
    httpsPort?: number;
    /** Where access-log lines go (default: standard output). */
    accessLog?: { write(line: string): void };
  } = {},
): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-test-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const gateway = new FileGateway({
    configDir: dir,
    port: options.port ?? 0,
    host: '127.0.0.1',
    ...(options.publicURL ? { publicURL: options.publicURL } : {}),
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    ...(options.httpsPort !== undefined ? { httpsPort: options.httpsPort } : {}),
    ...(options.accessLog ? { accessLogDestination: options.accessLog } : {}),
    adminPort: 0,
    adminHost: '127.0.0.1',
    logger: createLogger(process.env.MODELGATE_LOG_LEVEL ?? 'silent'),
    watch: options.watch ? { debounceMs: 20, pollMs: 500 } : false,
  });
  await gateway.start();
  return {
    gateway,
    dir,
    url: `http://127.0.0.1:${gateway.port}`,
    adminUrl: `http://127.0.0.1:${gateway.adminPort}`,
    async write(file, yaml) {
      writeFileSync(join(dir, file), yaml);
      await gateway.reload();
    },
    async stop() {
      await gateway.stop(2000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A ModelAPI in YAML with URL backends; `extra` is appended under spec. */
export function modelApiYaml(
  name: string,
  protocol: string,
  versions: { name: string; url: string; weight?: number; modelName?: string }[],
  extra = '',
): string {
  const v = versions
    .map(
      (x) =>
        `    - name: ${x.name}\n${x.weight !== undefined ? `      weight: ${x.weight}\n` : ''}${x.modelName ? `      modelName: ${x.modelName}\n` : ''}      backend:\n        url: ${x.url}\n`,
    )
    .join('');
  return `apiVersion: modelgate.dev/v1alpha1\nkind: ModelAPI\nmetadata:\n  name: ${name}\nspec:\n  protocol: ${protocol}\n  versions:\n${v}${extra}`;
}

/** Sends a request and reads the whole response. */
export async function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => unknown;
}> {
  const res = await request(url, {
    method: (init.method ?? (init.body !== undefined ? 'POST' : 'GET')) as 'GET',
    headers: init.headers ?? {},
    body: init.body ?? null,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** A ModelAPI backed by a Service with one EndpointSlice per port on 127.0.0.1; `extra` goes under spec. */
export function serviceApiYaml(name: string, protocol: string, ports: number[], extra = ''): string {
  // One EndpointSlice per port (a slice has one port list), as Kubernetes does for pods with different ports.
  const slices = ports
    .map(
      (p, i) =>
        `---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: ${name}-${i}\n  labels: {kubernetes.io/service-name: ${name}}\naddressType: IPv4\nports: [{name: http, port: ${p}}]\nendpoints:\n  - addresses: ["127.0.0.1"]\n`,
    )
    .join('');
  return `apiVersion: modelgate.dev/v1alpha1
kind: ModelAPI
metadata: {name: ${name}}
spec:
  protocol: ${protocol}
  versions:
    - name: v1
      backend: {service: {name: ${name}, port: http}}
${extra}---
apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  ports: [{name: http, port: 80}]
${slices}`;
}

/** Polls `check` until it holds, failing the test after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail('condition not reached in time');
}

/** A GatewayClass of modelgate's controller and a Gateway `name` with these listeners (default: one HTTP on 80). */
export function gatewayYaml(name = 'gw', listeners = '[{name: http, port: 80, protocol: HTTP}]'): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: modelgate}
spec: {controllerName: modelgate.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}}
spec:
  gatewayClassName: modelgate
  listeners: ${listeners}
`;
}

/** A ModelGateway with one API-key provider `keys` whose Secret holds `key` (for the team `team`). */
export function apiKeyGatewayYaml(key: string): string {
  return `apiVersion: modelgate.dev/v1alpha1
kind: ModelGateway
metadata: {name: gw}
spec:
  auth:
    providers: [{name: keys, apiKey: {secrets: [{name: keys}]}}]
---
apiVersion: v1
kind: Secret
metadata: {name: keys}
stringData: {team: ${key}}
`;
}
