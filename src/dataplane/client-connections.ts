/**
 * Client connections: the deadlines and limits that keep a client from holding the gateway (a head or body that
 * never finishes, a connection kept for ever), the answers to what Node's parser refuses, and a close that lets the
 * client read its answer. The limits are the ModelGateway's `spec.listener` (nginx's client_header_timeout,
 * client_body_timeout, keepalive_timeout, keepalive_time and keepalive_requests), applied to every HTTP/1.1 listener.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { rawProblemResponse } from '../errors/problem.ts';
import type { ListenerSettings } from '../snapshot/types.ts';

/** The limits before any configuration is loaded (the compiler's defaults). */
export const DEFAULT_LISTENER: ListenerSettings = {
  requestHeadersTimeoutMs: 15_000,
  requestBodyTimeoutMs: 60_000,
  requestReceiveTimeoutMs: 300_000,
  idleTimeoutMs: 65_000,
  maxConnectionDurationMs: 3_600_000,
  maxRequestsPerConnection: 0,
};

/**
 * How often Node sweeps connections for the head and receive deadlines (its default, 30 s, let a head deadline of
 * 30 s fire after up to a minute).
 */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;

/** When a connection was accepted (performance.now()), kept on the socket for the connection-age limit. */
const BORN = Symbol('modelgate.connectionBorn');
/** A socket that closes lingering (see closeAfterAnswer). */
const LINGERING = Symbol('modelgate.lingering');

/** After answering on a connection whose request is not fully read, how long its remaining bytes are drained. */
const LINGER_MS = 2_000;
/** …and how many of them at most, before the connection is cut anyway. */
const LINGER_BYTES = 1024 * 1024;

/** Sets the limits on a listener (at start and after every reload that changes them). */
export function applyLimits(server: Server, limits: ListenerSettings): void {
  // Node refuses a head timeout above the receive timeout; the receive timeout covers the head too.
  const receive = limits.requestReceiveTimeoutMs;
  server.headersTimeout =
    receive > 0 ? Math.min(limits.requestHeadersTimeoutMs || receive, receive) : limits.requestHeadersTimeoutMs;
  server.requestTimeout = receive;
  server.keepAliveTimeout = limits.idleTimeoutMs;
  server.maxRequestsPerSocket = limits.maxRequestsPerConnection;
}

/**
 * Makes a Node HTTP/1.1 listener answer what its parser refuses (a problem body, never a silent close), refuse
 * CONNECT (this is not a forward proxy; nginx answers the same 400), and remember each connection's age.
 */
export function hardenListener(server: Server, limits: ListenerSettings): void {
  applyLimits(server, limits);
  server.on('connection', (socket: Socket) => {
    (socket as Socket & { [BORN]?: number })[BORN] = performance.now();
  });
  server.on('secureConnection', (socket: Socket) => {
    (socket as Socket & { [BORN]?: number })[BORN] = performance.now();
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A response already under way on this connection (a request whose body stalled): nothing sane can follow it.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!socket.writable || err.code === 'ECONNRESET' || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    let response: string;
    if (err.code === 'HPE_HEADER_OVERFLOW')
      response = rawProblemResponse('headersTooLarge', 'the request headers are too large');
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
      response = rawProblemResponse('requestTimeout', 'the request did not arrive in time');
    else
      response = rawProblemResponse('malformedRequest', `the request could not be parsed (${err.code ?? err.message})`);
    if (inFlight && inFlight.req?.complete === true) {
      // The bytes after a complete request are broken (the next request on the connection): the request in flight
      // still gets its answer, then this one, then the connection closes — as nginx answers them in order.
      inFlight.shouldKeepAlive = false;
      inFlight.once('finish', () => socket.end(response));
      return;
    }
    // With the request in flight broken itself (its body broke the framing), the answer ends the connection:
    // whatever its handler writes later goes nowhere, and the close tells it to stop.
    socket.end(response);
  });
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    socket.on('error', () => {});
    socket.end(rawProblemResponse('malformedRequest', 'CONNECT is not served: the gateway is not a forward proxy'));
  });
}

/** How long the connection of a request has been open (ms), for the connection-age limit. */
export function connectionAge(req: IncomingMessage, now: number): number {
  const born = (req.socket as Socket & { [BORN]?: number })[BORN];
  return born === undefined ? 0 : now - born;
}

/**
 * Runs `arm` once the read that brought the request head has been parsed, if the body is still on its way. A small
 * body usually comes in the same read as its head: by then it is complete, and a deadline for it would be a timer
 * armed and cleared for nothing (two timer-list operations and a closure per request).
 */
export function whileBodyArrives(req: IncomingMessage, arm: () => void): void {
  // The head's read is parsed to its end before the tick queue runs, so `complete` is known by then; the body's
  // 'end' is emitted on a later tick, after this check.
  process.nextTick(() => {
    if (!req.complete && !req.destroyed) arm();
  });
}

/**
 * Watches a request body for silence: after `ms` without a byte the request gets a 'timeout' event, which whoever
 * reads the body answers (408 before any answer, a cut connection after); with nobody listening Node closes the
 * connection. Node moves the socket's idle timer on every read, so only a stalled body fires it.
 */
export function watchBodySilence(req: IncomingMessage, res: ServerResponse, ms: number): void {
  if (ms <= 0 || req.httpVersionMajor === 2) return;
  whileBodyArrives(req, () => {
    const socket = req.socket;
    socket.setTimeout(ms);
    req.once('end', () => {
      // After the answer Node has put its keep-alive timer on the socket; that one stays.
      if (!res.writableFinished) socket.setTimeout(0);
    });
  });
}

/**
 * Closes the connection after this answer without losing the answer. A connection closed while the client is still
 * sending (an over-limit body, say) is reset by the kernel, and a reset can reach the client before it read the answer
 * (413 lost to a reset). So, as nginx's lingering close does: the answer goes out, the write side is shut (the client
 * sees the end), and what the client still sends is read and dropped for a moment before the connection goes.
 */
export function closeAfterAnswer(res: ServerResponse): void {
  res.shouldKeepAlive = false;
  const socket = res.socket as (Socket & { [LINGERING]?: boolean; destroySoon?: () => void }) | null;
  if (!socket || socket[LINGERING] || res.req?.httpVersionMajor === 2) return;
  socket[LINGERING] = true;
  // Node's server closes a non-kept-alive connection through destroySoon() once the answer is written.
  socket.destroySoon = () => {
    let drained = 0;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(done, LINGER_MS);
    timer.unref();
    socket.on('data', (d: Buffer) => {
      drained += d.length;
      if (drained > LINGER_BYTES) done();
    });
    socket.once('end', done);
    socket.once('close', () => clearTimeout(timer));
    socket.end();
    socket.resume();
  };
}
