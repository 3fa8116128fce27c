/**
 * `npm start`: the three example model servers plus the gateway in file mode on http://127.0.0.1:8080.
 * Ctrl-C stops everything (the gateway drains first).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../../scripts/build.ts';
import { NODE_FLAGS } from '../../src/runtime/node-flags.ts';
import { chatHandler } from '../servers/chat-openai-server.ts';
import { startServer } from '../servers/http-util.ts';
import { irisHandler } from '../servers/iris-v2-server.ts';
import { sentimentHandler } from '../servers/sentiment-rest-server.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const servers = await Promise.all([
  startServer(irisHandler('iris'), 9101),
  startServer(chatHandler('tiny-chat'), 9102),
  startServer(sentimentHandler(), 9103),
]);

const gateway = spawn(
  process.execPath,
  // .state/demo keeps the API changelog across restarts of the demo (git-ignored).
  [
    ...NODE_FLAGS,
    ensureBuilt(),
    'serve',
    '--config',
    'examples/demo/config',
    '--port',
    '8080',
    '--admin-port',
    '9901',
    '--state-dir',
    '.state/demo',
  ],
  { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
);

const base = 'http://127.0.0.1:8080';
process.stdout.write(`
modelgate demo
  example model servers: iris (V2) :9101, tiny-chat (OpenAI) :9102, sentiment (REST) :9103
  gateway:  ${base}        admin: http://127.0.0.1:9901/config  /metrics  /readyz

try:
  curl -s ${base}/models/iris/infer -H 'content-type: application/json' \\
    -d '{"inputs":[{"name":"features","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}'
  curl -sN ${base}/models/chat/v1/chat/completions -H 'content-type: application/json' \\
    -d '{"model":"tiny-chat","stream":true,"messages":[{"role":"user","content":"how do models serve?"}]}'
  curl -s ${base}/models/sentiment/predict -H 'x-api-key: demo-key-123' -d '{"text":"I love this fast model"}'
  curl -s ${base}/models/iris -H 'x-model-version: v2'

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
