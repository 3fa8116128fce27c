/**
 * The upstream HTTP/1.1 client on its own, against real servers on loopback: node:http for well-behaved upstreams and
 * raw TCP servers for the ones that are not (garbage, early close, unsolicited bytes, informational responses).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import {
  type UpstreamController,
  type UpstreamError,
  type UpstreamHandler,
  UpstreamPool,
  type UpstreamRequest,
} from '../src/dataplane/upstream-client.ts';

interface Outcome {
  status: number;
  headers: readonly string[];
  body: string;
  error?: UpstreamError;
}

/** Sends one request and collects what the handler saw. */
function send(pool: UpstreamPool, request: Partial<UpstreamRequest> & { path: string }): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { status: 0, headers: [], body: '' };
    const chunks: Buffer[] = [];
    const handler: UpstreamHandler = {
      onRequestStart() {},
      onResponseStart(_c: UpstreamController, status, headers) {
        out.status = status;
        out.headers = headers;
      },
      onResponseData(_c, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        out.body = Buffer.concat(chunks).toString();
        resolve(out);
      },
      onResponseError(_c, err) {
        out.body = Buffer.concat(chunks).toString();
        out.error = err;
        resolve(out);
      },
    };
    pool.dispatch({ method: 'GET', headers: [], body: null, headersTimeout: 0, bodyTimeout: 0, ...request }, handler);
  });
}

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

/** A TCP server that answers every request it reads with `answer(requestText, socket)`. */
async function rawServer(answer: (request: string, socket: net.Socket) => void): Promise<string> {
  const server = net.createServer((socket) => {
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const request = buffered.slice(0, end + 4);
      buffered = buffered.slice(end + 4);
      answer(request, socket);
    });
    socket.on('error', () => {});
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

const pool = (origin: string, connections = 8) => new UpstreamPool({ origin, connections, connectTimeoutMs: 2000 });

describe('upstream client', () => {
  it('reuses a kept-alive connection, and frames Buffer and streamed bodies', async () => {
    const ports = new Set<number>();
    const origin = await httpServer((req, res) => {
      ports.add(req.socket.remotePort ?? 0);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const framing = req.headers['transfer-encoding'] ?? `length ${req.headers['content-length'] ?? 'none'}`;
        res.end(`${req.method} ${framing} ${Buffer.concat(chunks).toString()} host=${req.headers.host}`);
      });
    });
    const p = pool(origin);
    const plain = await send(p, { path: '/a' });
    assert.equal(plain.body, `GET length none  host=${origin.slice(7)}`);
    const buffered = await send(p, { path: '/b', method: 'POST', body: Buffer.from('hello') });
    assert.equal(buffered.body, `POST length 5 hello host=${origin.slice(7)}`);
    async function* parts() {
      yield Buffer.from('str');
      yield Buffer.from('eamed');
    }
    const streamed = await send(p, { path: '/c', method: 'POST', body: parts() });
    assert.equal(streamed.body, `POST chunked streamed host=${origin.slice(7)}`);
    const declared = await send(p, {
      path: '/d',
      method: 'PUT',
      headers: ['content-length', '8', 'host', 'model.internal'],
      body: parts(),
    });
    assert.equal(declared.body, 'PUT length 8 streamed host=model.internal');
    assert.equal(ports.size, 1, 'one connection served the requests one after the other');
    await p.close();
  });

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
      answers.map((a) => a.body),
      ['/0', '/1', '/2', '/3', '/4', '/5'],
    );
    assert.equal(most, 2);
    assert.ok(p.openConnections <= 2);
    await p.close();
  });

  it('skips informational responses, reads chunked and close-delimited bodies, and HEAD answers without a body', async () => {
    const origin = await rawServer((request, socket) => {
      const path = request.split(' ')[1];
      if (path === '/early-hints')
        socket.write(
          'HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
        );
      else if (path === '/chunked')
        socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
      else if (path === '/until-close') socket.end('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it');
      else if (path === '/head') socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n');
    });
    const p = pool(origin, 1);
    const hints = await send(p, { path: '/early-hints' });
    assert.equal(hints.status, 200);
    assert.equal(hints.body, 'ok');
    assert.equal((await send(p, { path: '/chunked' })).body, 'abcde');
    assert.equal((await send(p, { path: '/until-close' })).body, 'all of it');
    const head = await send(p, { path: '/head', method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.ok(!head.error);
    // The HEAD answer left the connection in step: the next request on it is understood.
    assert.equal((await send(p, { path: '/chunked' })).body, 'abcde');
    await p.close();
  });

  it('reports failures by kind: refused connection, garbage, early close, silence, line breaks in headers', async () => {
    const closed = net.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const deadPort = (closed.address() as net.AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const refused = await send(pool(`http://127.0.0.1:${deadPort}`), { path: '/' });
    assert.equal(refused.error?.kind, 'connect');
    assert.equal(refused.error?.code, 'ECONNREFUSED');

    const origin = await rawServer((request, socket) => {
      const path = request.split(' ')[1];
      if (path === '/garbage') socket.write('HTTP/1.1 200 OK\r\ncontent-length: nope\r\n\r\n');
      else if (path === '/cut') socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
      else if (path === '/nothing') socket.destroy();
      // /silent: never answers
    });
    const p = pool(origin);
    assert.equal((await send(p, { path: '/garbage' })).error?.kind, 'protocol');
    const cut = await send(p, { path: '/cut' });
    assert.equal(cut.status, 200);
    assert.equal(cut.body, 'partial');
    assert.equal(cut.error?.kind, 'reset');
    assert.equal((await send(p, { path: '/nothing' })).error?.kind, 'reset');
    const silent = await send(p, { path: '/silent', headersTimeout: 100 });
    assert.equal(silent.error?.kind, 'timeout');
    assert.match(silent.error?.message ?? '', /100 ms/);
    const injected = await send(p, { path: '/ok', headers: ['x-subject', 'alice\r\nx-admin: yes'] });
    assert.equal(injected.error?.kind, 'protocol');
    assert.match(injected.error?.message ?? '', /line break/);
    await p.close();
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
            c.pause(); // a slow client: its resume() would come on drain, after the exchange is over
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
    assert.equal(next.body, 'the whole body');
    await p.close();
  });

  it("applies each request's own timeouts on a reused connection, a short one after a long one too", async () => {
    const origin = await httpServer((req, res) => {
      if (req.url === '/silent') return; // never answers
      res.end('ok');
    });
    const p = pool(origin, 1);
    // The first request leaves the connection's head timer counting towards a deadline a minute away.
    assert.equal((await send(p, { path: '/quick', headersTimeout: 60_000, bodyTimeout: 60_000 })).body, 'ok');
    const silent = await send(p, { path: '/silent', headersTimeout: 100 });
    assert.equal(silent.error?.kind, 'timeout', 'the 100 ms head timeout of the second request fired');
    assert.match(silent.error?.message ?? '', /100 ms/);
    await p.close();
  });

  it('drops a connection that carries bytes nobody asked for', async () => {
    const origin = await rawServer((_request, socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      // Unsolicited: a second response right after the first.
      setTimeout(() => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'), 20);
    });
    const p = pool(origin);
    assert.equal((await send(p, { path: '/1' })).body, 'ok');
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(p.openConnections, 0, 'the connection with stray bytes was closed');
    assert.equal((await send(p, { path: '/2' })).body, 'ok');
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
