/** http-proxy (node-http-proxy) with a keep-alive agent.   node http-proxy.ts LISTEN UPSTREAM */
import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';

const [listen, upstream] = process.argv.slice(2).map(Number);
const proxy = httpProxy.createProxyServer({
  target: `http://127.0.0.1:${upstream}`,
  agent: new Agent({ keepAlive: true, maxSockets: 128 }),
});
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502);
  res.end();
});
const server = createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 120_000;
server.listen(listen, '127.0.0.1', () => process.stdout.write('ready\n'));
