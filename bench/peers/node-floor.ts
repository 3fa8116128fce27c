/**
 * The floor of what Node can do as a proxy: node:http in front, an undici Pool behind, nothing else (no routing, no
 * header hygiene, no retries, no metrics). modelgate is compared with it to see what its features cost.
 *
 *   node bench/peers/node-floor.ts LISTEN_PORT UPSTREAM_PORT
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [listen, upstream] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${upstream}`, { connections: 128, pipelining: 1 });
const server = createServer((req, res) => {
  pool.stream(
    { path: req.url ?? '/', method: (req.method ?? 'GET') as 'GET', headers: req.headers, body: req },
    ({ statusCode, headers }) => {
      res.writeHead(statusCode, headers as Record<string, string>);
      return res;
    },
    (err) => {
      if (err && !res.headersSent) {
        res.writeHead(502);
        res.end();
      }
    },
  );
});
server.keepAliveTimeout = 120_000;
server.listen(listen, '127.0.0.1', () => process.stdout.write('ready\n'));
