/**
 * The upstream transports on their own (the hand-written client and undici, each test run against both), against real
 * node:http servers on loopback: queueing, timeouts on reused connections, backpressure, aborts, keep-alive hints.
 * What malformed or unusual upstream bytes do is the conformance table's (transport-conformance.test.ts).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import type { UpstreamError } from '../../src/dataplane/upstream/transport.ts';
import { exchange, TRANSPORTS, transport } from '../helpers/transport.ts';

const servers: (Server | net.Server)[] = [];
after(() => {
  for (const s of servers) s.close();
});

async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

for (const kind of TRANSPORTS)
  describe(`upstream transport: ${kind}`, () => {
    const pool = (origin: string, connections = 8) => transport(kind, origin, connections);
    const send = exchange;
    it('queues requests beyond its connection limit and serves them in order', async () => {
      let open = 0;
      let most = 0;
      const origin = await httpServer((req, res) => {
        open++;
        most = Math.max(most, open);
        setTimeout(() => {
          open--;
          res.end(req.url);
        }, 20);
      });
      const p = pool(origin, 2);
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => send(p, { path: `/${i}` })));
      assert.deepEqual(
        answers.map((a) => a.body.toString()),
        ['/0', '/1', '/2', '/3', '/4', '/5'],
      );
      assert.equal(most, 2);
      assert.ok(p.openConnections <= 2);
      await p.close();
    });

    it('reports a refused connection as a connect failure with its code', async () => {
      const closed = net.createServer();
      closed.listen(0, '127.0.0.1');
      await once(closed, 'listening');
      const deadPort = (closed.address() as net.AddressInfo).port;
      closed.close();
      await once(closed, 'close');
      const refused = await send(pool(`http://127.0.0.1:${deadPort}`), { path: '/' });
      assert.equal(refused.error?.kind, 'connect');
      assert.equal(refused.error?.code, 'ECONNREFUSED');
    });
    it('times out a body that stops flowing, and aborts on request', async () => {
      const origin = await httpServer((req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: 1\n\n');
        if (req.url === '/stall') return; // then silence
        const timer = setInterval(() => res.write('data: tick\n\n'), 10);
        res.on('close', () => clearInterval(timer));
      });
      const p = pool(origin);
      const stalled = await send(p, { path: '/stall', bodyTimeout: 150 });
      assert.equal(stalled.status, 200);
      assert.equal(stalled.error?.kind, 'timeout');
      // A body that keeps flowing is never cut by the idle timeout, however long it lasts.
      const aborted = await new Promise<UpstreamError | undefined>((resolve) => {
        let ticks = 0;
        p.dispatch(
          { method: 'GET', path: '/ticks', headers: [], body: null, headersTimeout: 0, bodyTimeout: 100 },
          {
            onRequestStart() {},
            onResponseStart() {},
            onResponseData(c) {
              if (++ticks === 30) c.abort(new Error('enough'));
            },
            onResponseEnd() {
              resolve(undefined);
            },
            onResponseError(_c, err) {
              resolve(err);
            },
          },
        );
      });
      assert.equal(aborted?.kind, 'aborted');
      assert.equal(aborted?.message, 'enough');
      await p.close();
    });

    it('reuses a connection its handler paused on the last chunk (backpressure) without hanging the next request', async () => {
      // The whole body in one read: the pause comes on the last chunk, and the message completes in the same parse.
      const origin = await httpServer((_req, res) => res.end('the whole body'));
      const p = pool(origin, 1);
      const paused = await new Promise<string>((resolve) => {
        let body = '';
        p.dispatch(
          { method: 'GET', path: '/', headers: [], body: null, headersTimeout: 0, bodyTimeout: 0 },
          {
            onRequestStart() {},
            onResponseStart() {},
            onResponseData(c, chunk) {
              body += chunk.toString();
              // A slow client: its resume() comes on drain, which may be after the exchange is over (the native client
              // completes a response it has read whole) or what lets it complete (undici holds the end until resumed).
              c.pause();
              setTimeout(() => c.resume(), 20);
            },
            onResponseEnd() {
              resolve(body);
            },
            onResponseError(_c, err) {
              resolve(err.message);
            },
          },
        );
      });
      assert.equal(paused, 'the whole body');
      const next = await send(p, { path: '/again', headersTimeout: 2000 });
      assert.equal(next.error, undefined, next.error?.message);
      assert.equal(next.body.toString(), 'the whole body');
      await p.close();
    });

    it("applies each request's own timeouts on a reused connection, a short one after a long one too", async () => {
      const origin = await httpServer((req, res) => {
        if (req.url === '/silent') return; // never answers
        res.end('ok');
      });
      const p = pool(origin, 1);
      // The first request leaves the connection's head timer counting towards a deadline a minute away.
      assert.equal(
        (await send(p, { path: '/quick', headersTimeout: 60_000, bodyTimeout: 60_000 })).body.toString(),
        'ok',
      );
      const silent = await send(p, { path: '/silent', headersTimeout: 100 });
      assert.equal(silent.error?.kind, 'timeout', 'the 100 ms head timeout of the second request fired');
      assert.match(silent.error?.message ?? '', /100 ms/);
      await p.close();
    });

    it('does not reuse a connection the upstream is about to close (its Keep-Alive timeout, minus a margin)', async () => {
      const ports: number[] = [];
      const handler = (req: IncomingMessage, res: ServerResponse) => {
        ports.push(req.socket.remotePort ?? 0);
        res.end('ok');
      };
      const short = await httpServer(handler);
      (servers.at(-1) as Server).keepAliveTimeout = 1000; // announced as `Keep-Alive: timeout=1`
      const p = pool(short);
      await send(p, { path: '/' });
      await send(p, { path: '/' });
      assert.notEqual(ports[0], ports[1], 'a 1 s keep-alive leaves no safe time to reuse');
      ports.length = 0;
      const long = await httpServer(handler); // node's default: timeout=5
      const q = pool(long);
      await send(q, { path: '/' });
      await new Promise((r) => setTimeout(r, 50));
      await send(q, { path: '/' });
      assert.equal(ports[0], ports[1]);
      await Promise.all([p.close(), q.close()]);
    });
  });
