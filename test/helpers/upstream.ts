/** Real HTTP upstreams on 127.0.0.1 port 0, with behaviour chosen per request path, and a log of what they saw. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';

/** What an upstream received. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A running test upstream. */
export interface TestUpstream {
  readonly server: Server;
  readonly port: number;
  readonly origin: string;
  readonly seen: SeenRequest[];
  /** Requests whose connection the client closed before the response finished. */
  aborted: number;
  close(): Promise<void>;
}

/** A custom handler; return true when it handled the request. */
export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, body: string) => boolean | Promise<boolean>;

/**
 * Starts an upstream. Built-in paths (after any prefix):
 *   /status/{code}       answers with that status and an echo body
 *   /delay/{ms}          answers after ms
 *   /sse/{n}/{ms}        streams n SSE events, ms apart
 *   /drop                closes the socket without answering
 *   anything else        200 with a JSON echo {name, method, url, headers, body}
 */
export async function startUpstream(name = 'upstream', handler?: UpstreamHandler, port = 0): Promise<TestUpstream> {
  const seen: SeenRequest[] = [];
  const state = { aborted: 0 };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      // The gateway cut a streamed body off (over its limit, or the client went away): nothing to answer.
      state.aborted++;
      return;
    }
    const body = Buffer.concat(chunks).toString('utf8');
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    res.on('close', () => {
      if (!res.writableFinished) state.aborted++;
    });
    if (handler && (await handler(req, res, body))) return;
    const url = req.url ?? '/';
    const echo = () => JSON.stringify({ name, method: req.method, url, headers: req.headers, body });
    const status = /\/status\/(\d+)/.exec(url);
    const delay = /\/delay\/(\d+)/.exec(url);
    const sse = /\/sse\/(\d+)\/(\d+)/.exec(url);
    if (status) {
      res.writeHead(Number(status[1]), { 'content-type': 'application/json' });
      res.end(echo());
    } else if (delay) {
      setTimeout(() => {
        if (!res.destroyed) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(echo());
        }
      }, Number(delay[1]));
    } else if (sse) {
      const n = Number(sse[1]);
      const interval = Number(sse[2]);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (let i = 0; i < n && !res.destroyed; i++) {
        res.write(`data: ${JSON.stringify({ i, name })}\n\n`);
        await new Promise((r) => setTimeout(r, interval));
      }
      res.end();
    } else if (url.includes('/drop')) {
      req.socket.destroy();
    } else {
      res.writeHead(200, {
        'content-type': 'application/json',
        connection: 'keep-alive, x-hop',
        'x-hop': 'secret',
        'x-from': name,
      });
      res.end(echo());
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    server,
    port: bound,
    origin: `http://127.0.0.1:${bound}`,
    seen,
    get aborted() {
      return state.aborted;
    },
    set aborted(v: number) {
      state.aborted = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A loopback port with nothing listening on it (bound once, then released): a dead endpoint, or a port to use. */
export async function unusedPort(): Promise<number> {
  const srv = createTcpServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** An upstream that answers every request with `status` and `body` (a sick or overloaded model server). */
export function startFailingUpstream(name: string, status: number, body = 'failing'): Promise<TestUpstream> {
  return startUpstream(name, (_req, res) => {
    res.writeHead(status);
    res.end(body);
    return true;
  });
}
