/**
 * `npm start`: the four example model servers plus the gateway in file mode, by default on http://127.0.0.1:8080
 * (admin on :9901, the model servers on :9101-9104). Ctrl-C stops everything (the gateway drains first).
 *
 *   npm start -- --port 18080 --admin-port 19901       or   PORT=18080 ADMIN_PORT=19901 npm start
 *   npm start -- --port 0 --admin-port 0 --model-ports 0   (any free ports; the banner says which)
 *
 * With the default model-server ports the gateway serves examples/demo/config itself, so edits there apply live; with
 * other ports it serves a copy of that directory with the ports put in (.state/demo/config, rewritten at each start).
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureBuilt } from '../../scripts/build.ts';
import { NODE_FLAGS } from '../../src/runtime/node-flags.ts';
import { chatHandler } from '../servers/chat-openai-server.ts';
import { startServer } from '../servers/http-util.ts';
import { irisHandler } from '../servers/iris-v2-server.ts';
import { sentimentHandler } from '../servers/sentiment-rest-server.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = 'examples/demo/config';
const DEFAULT_MODEL_PORTS = [9101, 9102, 9103, 9104] as const;

function fail(message: string): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(2);
}

function port(value: string, what: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) fail(`${what} must be a port number (0 for any free port), not ${value}`);
  return n;
}

let values: { port?: string; 'admin-port'?: string; 'model-ports'?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string' },
      'admin-port': { type: 'string' },
      'model-ports': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}
if (values.help) {
  process.stdout.write(
    'usage: npm start -- [--port 8080] [--admin-port 9901] [--model-ports 9101,9102,9103,9104 | 0]\n' +
      '       (or PORT, ADMIN_PORT, MODEL_PORTS in the environment; 0 means any free port)\n',
  );
  process.exit(0);
}

/** A free loopback port, for the gateway's listeners when asked for 0 (its documents need the real one up front). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const gatewayPort = port(values.port ?? process.env.PORT ?? '8080', '--port') || (await freePort());
const adminPort = port(values['admin-port'] ?? process.env.ADMIN_PORT ?? '9901', '--admin-port') || (await freePort());
const modelPortsText = values['model-ports'] ?? process.env.MODEL_PORTS;
const wanted: string[] = modelPortsText === undefined ? DEFAULT_MODEL_PORTS.map(String) : modelPortsText.split(',');
if (wanted.length === 1) wanted.push(wanted[0]!, wanted[0]!, wanted[0]!);
if (wanted.length === 3) wanted.push('0'); // the backup chat model: any free port
if (wanted.length !== 4)
  fail(
    '--model-ports takes four ports (iris, chat, sentiment, chat backup), three (the backup on any), or one for all',
  );
const modelPorts = wanted.map((p) => port(String(p), '--model-ports'));

const servers = await Promise.all([
  startServer(irisHandler('iris'), modelPorts[0]),
  // At most two generations at once: a third is answered 429, and the gateway's /v1 falls back to the backup model.
  startServer(chatHandler('tiny-chat', 15, 2), modelPorts[1]),
  startServer(sentimentHandler(), modelPorts[2]),
  startServer(chatHandler('tiny-chat-mini', 10), modelPorts[3]),
]).catch((err: Error) => fail(`a model server cannot listen: ${err.message}`));
const bound = servers.map((s) => s.port);

/** The directory the gateway serves: the example itself, or a copy with the model servers' ports put in. */
function configDirectory(): string {
  if (bound.every((p, i) => p === DEFAULT_MODEL_PORTS[i])) return CONFIG;
  const copy = join(root, '.state/demo/config');
  rmSync(copy, { recursive: true, force: true });
  mkdirSync(copy, { recursive: true });
  cpSync(join(root, CONFIG), copy, { recursive: true });
  for (const file of readdirSync(copy)) {
    let text = readFileSync(join(copy, file), 'utf8');
    DEFAULT_MODEL_PORTS.forEach((p, i) => {
      text = text.replaceAll(`${p}`, `${bound[i]}`);
    });
    writeFileSync(join(copy, file), text);
  }
  return '.state/demo/config';
}
const config = configDirectory();

const gateway = spawn(
  process.execPath,
  // .state/demo keeps the API changelog across restarts of the demo (git-ignored).
  [
    ...NODE_FLAGS,
    ensureBuilt(),
    'serve',
    '--config',
    config,
    '--port',
    String(gatewayPort),
    '--admin-port',
    String(adminPort),
    '--state-dir',
    '.state/demo',
  ],
  { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
);

const base = `http://127.0.0.1:${gatewayPort}`;
process.stdout.write(`
modelgate demo
  example model servers: iris (V2) :${bound[0]}, tiny-chat (OpenAI) :${bound[1]}, sentiment (REST) :${bound[2]},
                         tiny-chat-mini (OpenAI, the fallback of tiny-chat) :${bound[3]}
  gateway:  ${base}        admin: http://127.0.0.1:${adminPort}/config  /metrics  /readyz
  config:   ${config}${config === CONFIG ? '' : ` (a copy of ${CONFIG} with these ports)`}

try:
  curl -s ${base}/models/iris/infer -H 'content-type: application/json' \\
    -d '{"inputs":[{"name":"features","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}'
  curl -sN ${base}/models/chat/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"tiny-chat","stream":true,"messages":[{"role":"user","content":"how do models serve?"}]}'
  curl -s ${base}/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"chat-small","messages":[{"role":"user","content":"hello"}]}'
  curl -s ${base}/v1/models
  curl -s ${base}/models/sentiment/predict -H 'x-api-key: demo-key-123' -d '{"text":"I love this fast model"}'
  curl -s ${base}/models/iris -H 'x-model-version: v2'
  open ${base}/docs

Ctrl-C stops everything.
`);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  gateway.kill('SIGTERM');
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
gateway.on('exit', (code) => {
  for (const { server } of servers) server.close();
  for (const { server } of servers) server.closeAllConnections();
  process.exit(stopping ? 0 : (code ?? 1));
});
