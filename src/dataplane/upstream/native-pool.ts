/**
 * The hand-written upstream HTTP/1.1 client (the default transport): keep-alive connections to one origin (plain or
 * TLS), one request at a time on each, responses parsed by Node's own llhttp binding and handed on chunk by chunk.
 *
 * Why not undici here (it still serves every other outbound call, and is the other transport behind the same seam,
 * `transport.ts`): on the forwarding hot path it measured about a quarter more CPU per proxied request
 * (bench/RESULTS.md). It validates every header again — ours come from Node's request parser or from the validated
 * configuration, and are only screened for line breaks here — parses responses in WebAssembly (each read copied into
 * wasm memory), and builds several objects per request. This client writes the request head as one latin1 string
 * with the body in the same writev, and keeps per-request state to one object. What that buys is paid for in tests:
 * the conformance table and the differential fuzzer run this client and undici on the same bytes.
 *
 * Connection reuse is where a proxy can hand one client's bytes to another, so the rules are strict: a connection is
 * reused only after a complete response to a completely sent request, with nothing after it in the same read, and is
 * closed the moment the upstream sends anything while it is idle (as nginx's keepalive cache does).
 *
 * Failures are reported with a kind (connect, reset, timeout, protocol, aborted, too-large) that the forwarder's
 * retry policy and error answers are written in.
 *
 * Why one file of about 600 lines: the pool, a connection and its one exchange share one state machine (when a
 * connection may be handed on depends on the parser's callbacks, the socket's events and the deadlines together), and
 * the reuse rules above are only checkable when read in one place. The parser binding is apart (llhttp.ts).
 */
import net from 'node:net';
import tls from 'node:tls';
import {
  HTTPParser,
  kOnBody,
  kOnHeaders,
  kOnHeadersComplete,
  kOnMessageBegin,
  kOnMessageComplete,
  type ResponseParser,
} from './llhttp.ts';
import {
  requestLineError,
  type UpstreamController,
  UpstreamError,
  type UpstreamHandler,
  type UpstreamOrigin,
  type UpstreamRequest,
  type UpstreamTransport,
} from './transport.ts';

/** Idle connections are not reused after this long without a `Keep-Alive: timeout` hint from the upstream. */
const DEFAULT_KEEP_ALIVE_MS = 4_000;
/** A hinted keep-alive is cut short by this much, so the upstream never closes a connection as a request goes out. */
const KEEP_ALIVE_MARGIN_MS = 1_000;
const MAX_KEEP_ALIVE_MS = 600_000;
/** Header values that could end a line would let a value smuggle headers or requests. */
const LINE_BREAK = /[\r\n\0]/;

/**
 * Where plain-TCP upstream sockets read into (net's `onread`): one buffer for all of them. A read is parsed right away
 * and llhttp's callbacks copy out what they keep (header strings, body chunks as new Buffers; a head split across
 * reads is saved by the parser itself), so nothing points into it once `received` returns. Compared with 'data'
 * events this skips a new Buffer per read and the Readable machinery that only hands it on.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Connections to one origin. */
export class NativePool implements UpstreamTransport {
  readonly origin: string;
  readonly #host: string;
  readonly #port: number;
  readonly #hostHeader: string;
  readonly #secure: boolean;
  readonly #options: UpstreamOrigin;
  readonly #idle: Connection[] = [];
  readonly #queue: Attempt[] = [];
  #open = 0;
  #closing = false;
  #closed: (() => void) | undefined;

  constructor(options: UpstreamOrigin) {
    const url = new URL(options.origin);
    this.origin = options.origin;
    this.#options = options;
    this.#host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.#port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    this.#hostHeader = url.host;
    this.#secure = url.protocol === 'https:';
  }

  /** Connections open now (idle or busy). */
  get openConnections(): number {
    return this.#open;
  }

  /** Sends a request; its outcome comes to `handler`. */
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    const attempt = new Attempt(this, request, handler);
    handler.onRequestStart(attempt);
    if (attempt.done) return;
    const bad = requestLineError(request.method, request.path);
    if (bad) {
      attempt.fail(new UpstreamError('protocol', bad));
      return;
    }
    if (this.#closing) {
      attempt.fail(new UpstreamError('connect', `the connection pool for ${this.origin} is closed`));
      return;
    }
    const idle = this.#takeIdle();
    if (idle) idle.assign(attempt);
    else if (this.#open < this.#options.connections) this.#connect().assign(attempt);
    else this.#queue.push(attempt);
  }

  /** Lets requests in flight and queued finish, then closes every connection. */
  close(): Promise<void> {
    this.#closing = true;
    for (const c of this.#idle.splice(0)) c.socket.destroy();
    if (this.#open === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#closed = resolve;
    });
  }

  /** A connection finished its exchange cleanly and may be reused (never called from inside its parser). */
  released(conn: Connection): void {
    const next = this.#queue.shift();
    if (next) {
      conn.assign(next);
      return;
    }
    if (this.#closing) {
      conn.socket.destroy();
      return;
    }
    conn.idleSince = performance.now();
    this.#idle.push(conn);
  }

  /** A connection closed (for whatever reason). */
  gone(conn: Connection): void {
    this.#open--;
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    // A queued request gets the freed slot.
    const next = this.#queue.shift();
    if (next && !this.#closing) this.#connect().assign(next);
    else if (next) next.fail(new UpstreamError('connect', `the connection pool for ${this.origin} is closed`));
    if (this.#closing && this.#open === 0) this.#closed?.();
  }

  /** A queued attempt gave up before it got a connection. */
  unqueue(attempt: Attempt): void {
    const i = this.#queue.indexOf(attempt);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  #takeIdle(): Connection | undefined {
    const now = performance.now();
    for (let c = this.#idle.pop(); c; c = this.#idle.pop()) {
      // Most recently used first: a few warm connections serve a light load and the rest age out.
      if (!c.socket.destroyed && now - c.idleSince < c.keepAliveMs) return c;
      c.socket.destroy();
    }
    return undefined;
  }

  #connect(): Connection {
    this.#open++;
    const o = this.#options;
    const socket: net.Socket = this.#secure
      ? tls.connect({
          host: this.#host,
          port: this.#port,
          // Verified against the CA given (else the system's), by the name given (else the host, when it is a name).
          ...(o.tls?.serverName
            ? { servername: o.tls.serverName }
            : net.isIP(this.#host)
              ? {}
              : { servername: this.#host }),
          ...(o.tls?.caPem ? { ca: o.tls.caPem } : {}),
          ...(o.tls?.certPem ? { cert: o.tls.certPem, key: o.tls.keyPem } : {}),
          ALPNProtocols: ['http/1.1'],
        })
      : net.connect({
          host: this.#host,
          port: this.#port,
          onread: {
            buffer: READ_BUFFER,
            callback: (n: number, buf: Buffer) => {
              conn.received(buf.subarray(0, n));
              return true; // pausing for backpressure goes through socket.pause(), as with 'data'
            },
          },
        });
    const conn: Connection = new Connection(this, socket, this.#hostHeader, o.connectTimeoutMs, this.#secure);
    return conn;
  }
}

/** One request's state in the pool; the handler's controller. */
class Attempt implements UpstreamController {
  readonly pool: NativePool;
  readonly request: UpstreamRequest;
  readonly handler: UpstreamHandler;
  conn: Connection | undefined;
  done = false;

  constructor(pool: NativePool, request: UpstreamRequest, handler: UpstreamHandler) {
    this.pool = pool;
    this.request = request;
    this.handler = handler;
  }

  abort(reason: Error): void {
    if (this.done) return;
    const err = reason instanceof UpstreamError ? reason : new UpstreamError('aborted', reason.message);
    if (this.conn) this.conn.fail(err);
    else {
      this.pool.unqueue(this);
      this.fail(err);
    }
  }

  pause(): void {
    this.conn?.socket.pause();
  }

  resume(): void {
    this.conn?.socket.resume();
  }

  /** Ends the attempt with an error (once). */
  fail(err: UpstreamError): void {
    if (this.done) return;
    this.done = true;
    this.handler.onResponseError(this, err);
  }
}

/** One keep-alive connection and its parser. */
class Connection {
  readonly pool: NativePool;
  readonly socket: net.Socket;
  readonly #parser: ResponseParser;
  readonly #hostHeader: string;
  attempt: Attempt | undefined;
  idleSince = 0;
  keepAliveMs = DEFAULT_KEEP_ALIVE_MS;
  #connected = false;
  #connectTimer: NodeJS.Timeout | undefined;
  /** Until the response head: armed when the request goes out on a connected socket. */
  readonly #headTimer = new DeadlineTimer(() => {
    this.fail(new UpstreamError('timeout', `no response head within ${this.attempt?.request.headersTimeout} ms`));
  });
  /** Silence while the response body streams: restarted by every chunk. */
  readonly #bodyTimer = new DeadlineTimer(() => {
    this.fail(new UpstreamError('timeout', `no data from the upstream for ${this.attempt?.request.bodyTimeout} ms`));
  });
  /**
   * Header lines llhttp delivered before the head was complete (a head split across reads), or after it: the
   * trailer section of a chunked body. Emptied when the head or the message completes, and for every new request.
   */
  #pendingLines: string[] = [];
  #status = 0;
  #keepAlive = true;
  /** The whole request is written: only then can the connection carry another one. */
  #requestSent = false;
  /** The response completed inside the current read; the connection is handed on once the read is parsed. */
  #completed = false;
  /** Bytes of another message followed a complete response (unsolicited, or a body longer than announced). */
  #unsolicited = false;
  /** The socket closed; the parser is freed and must not run again. */
  #closed = false;
  /** The last Keep-Alive header value read. */
  #hintSeen = '';

  constructor(pool: NativePool, socket: net.Socket, hostHeader: string, connectTimeoutMs: number, secure: boolean) {
    this.pool = pool;
    this.socket = socket;
    this.#hostHeader = hostHeader;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.RESPONSE, {}, 0, 0);
    parser[kOnMessageBegin] = () => {
      // A message starts while no request waits for one: after a complete response in the same read, or on an idle
      // connection. Its bytes cannot be matched to any request, so the connection is not used again.
      if (this.attempt === undefined || this.#completed) this.#unsolicited = true;
    };
    parser[kOnHeaders] = (headers: string[]) => {
      for (const line of headers) this.#pendingLines.push(line);
    };
    parser[kOnHeadersComplete] = (
      _major: number,
      _minor: number,
      headers: string[] | undefined,
      _method: unknown,
      _url: unknown,
      status: number,
      _message: unknown,
      upgrade: boolean,
      keepAlive: boolean,
    ) => this.#onHead(headers, status, upgrade, keepAlive);
    parser[kOnBody] = (chunk: Buffer) => {
      const a = this.attempt;
      if (!a || a.done || this.#completed) return;
      this.#bodyTimer.touch();
      a.handler.onResponseData(a, chunk);
    };
    parser[kOnMessageComplete] = () => this.#onComplete();
    this.#parser = parser;
    if (connectTimeoutMs > 0) {
      this.#connectTimer = setTimeout(
        () => this.fail(new UpstreamError('connect', `connect timeout after ${connectTimeoutMs} ms`, 'ETIMEDOUT')),
        connectTimeoutMs,
      );
    }
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      this.#connected = true;
      clearTimeout(this.#connectTimer);
      if (this.attempt) this.#headTimer.arm(this.attempt.request.headersTimeout);
    });
    // Plain sockets deliver their reads through `onread` (see READ_BUFFER); TLS ones as 'data'.
    if (secure) socket.on('data', (data: Buffer) => this.received(data));
    socket.on('end', () => {
      if (this.#closed) return;
      const r = this.#parser.finish();
      if (r !== undefined && typeof r !== 'number' && this.attempt) {
        this.fail(
          new UpstreamError('reset', `the upstream closed the connection mid-response (${r.code ?? r.message})`),
        );
      }
      this.#settle();
      this.fail(new UpstreamError('reset', 'the upstream closed the connection before the response'));
    });
    // TCP is up but the TLS handshake is not: a refused certificate is a lasting misconfiguration, not a transient
    // connect failure — reported as is (502 with the reason), never retried elsewhere as if the endpoint were down.
    let handshaking = false;
    if (secure) socket.once('connect', () => (handshaking = true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#connected) this.fail(new UpstreamError('reset', err.message, err.code ?? 'ERR_SOCKET'));
      else if (handshaking)
        this.fail(new UpstreamError('protocol', `TLS handshake failed: ${err.message}`, err.code ?? 'ERR_TLS'));
      else this.fail(new UpstreamError('connect', err.message, err.code ?? 'ERR_SOCKET'));
    });
    socket.on('close', () => {
      clearTimeout(this.#connectTimer);
      this.#headTimer.dispose();
      this.#bodyTimer.dispose();
      this.fail(new UpstreamError('reset', 'the connection to the upstream closed'));
      this.#closed = true;
      // The parser is a native object that lives until closed, and its callbacks hold this connection (and through
      // it the socket): without close() every connection ever opened would stay in memory. Freed once the stack has
      // unwound, as node:http does, in case the close came from inside one of its callbacks.
      setImmediate(() => parser.close());
      pool.gone(this);
    });
  }

  /** Bytes read from the upstream: parsed at once (the buffer may be reused after this returns). */
  received(data: Buffer): void {
    if (this.#closed) return;
    if (this.attempt === undefined) {
      // Idle: nothing is owed, so anything the upstream sends now is unsolicited (nginx closes such connections too)
      // — except empty lines, which some servers send after a body and llhttp skips before the next message.
      if (!onlyLineEnds(data)) this.socket.destroy();
      return;
    }
    const r = this.#parser.execute(data);
    if (typeof r !== 'number') {
      this.fail(new UpstreamError('protocol', `invalid response: ${r.message}`, r.code));
      return;
    }
    this.#settle();
  }

  /** After a read: hands a connection whose response completed on (or closes it when it cannot be trusted). */
  #settle(): void {
    if (!this.#completed) return;
    this.#completed = false;
    if (this.#keepAlive && this.#requestSent && !this.#unsolicited && !this.socket.destroyed && !this.#closed) {
      this.pool.released(this);
    } else this.socket.destroy();
  }

  /** Starts `attempt` on this connection: writes the head and the body. */
  assign(attempt: Attempt): void {
    this.attempt = attempt;
    attempt.conn = this;
    this.#status = 0;
    this.#keepAlive = true;
    this.#requestSent = false;
    this.#pendingLines = [];
    const { request } = attempt;
    const body = request.body;
    let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
    let hasHost = false;
    let declaredLength = false;
    const h = request.headers;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i]!;
      const value = h[i + 1]!;
      if (LINE_BREAK.test(value) || LINE_BREAK.test(name)) {
        this.fail(new UpstreamError('protocol', `the request header ${JSON.stringify(name)} has a line break`));
        return;
      }
      if (name.length === 14 && name.toLowerCase() === 'content-length') {
        // A Buffer's length is written below from the Buffer itself; a stream keeps the length it declared.
        if (Buffer.isBuffer(body)) continue;
        declaredLength = true;
      } else if (name.length === 4 && name.toLowerCase() === 'host') hasHost = true;
      head += `${name}: ${value}\r\n`;
    }
    if (!hasHost) head += `host: ${this.#hostHeader}\r\n`;
    const socket = this.socket;
    // Counted from the connection (a new one arms it when connected): the connect timeout covers the time before.
    if (this.#connected) this.#headTimer.arm(request.headersTimeout);
    if (body === null) {
      socket.write(`${head}\r\n`, 'latin1');
      this.#requestSent = true;
    } else if (Buffer.isBuffer(body)) {
      if (body.length > 0 || request.method !== 'GET') head += `content-length: ${body.length}\r\n`;
      socket.cork();
      socket.write(`${head}\r\n`, 'latin1');
      if (body.length > 0) socket.write(body);
      socket.uncork();
      this.#requestSent = true;
    } else {
      if (!declaredLength) head += 'transfer-encoding: chunked\r\n';
      socket.write(`${head}\r\n`, 'latin1');
      void this.#stream(attempt, body, !declaredLength);
    }
  }

  /** Streams a request body with backpressure; a body that fails ends the attempt with its reason. */
  async #stream(attempt: Attempt, body: AsyncIterable<Buffer>, chunked: boolean): Promise<void> {
    const socket = this.socket;
    try {
      for await (const chunk of body) {
        if (this.attempt !== attempt || socket.destroyed) return;
        if (chunk.length === 0) continue;
        let more: boolean;
        if (chunked) {
          socket.cork();
          socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
          socket.write(chunk);
          more = socket.write('\r\n', 'latin1');
          socket.uncork();
        } else more = socket.write(chunk);
        if (!more) await drained(socket);
      }
      if (this.attempt !== attempt || socket.destroyed) return;
      if (chunked) socket.write('0\r\n\r\n', 'latin1');
      this.#requestSent = true;
    } catch (err) {
      if (this.attempt !== attempt) return;
      const e = err as Error & { code?: string };
      this.fail(
        new UpstreamError(
          e.code === 'MG_BODY_TOO_LARGE' ? 'too-large' : 'aborted',
          `request body: ${e.message}`,
          e.code,
        ),
      );
    }
  }

  #onHead(headers: string[] | undefined, status: number, upgrade: boolean, keepAlive: boolean): number {
    const a = this.attempt;
    if (!a || a.done || this.#completed) {
      // A response nobody asked for: the connection's framing can no longer be trusted.
      this.#unsolicited = true;
      this.socket.destroy();
      return 0;
    }
    let raw = headers;
    if (raw === undefined) raw = this.#pendingLines;
    this.#pendingLines = [];
    this.#status = status;
    if (upgrade) {
      this.fail(new UpstreamError('protocol', `the upstream switched protocols (${status}), which is not proxied`));
      return 0;
    }
    if (status < 200) return 0; // informational: the final response follows on the same connection
    this.#headTimer.disarm();
    this.#bodyTimer.arm(a.request.bodyTimeout);
    this.#keepAlive = keepAlive;
    this.#readKeepAliveHint(raw);
    a.handler.onResponseStart(a, status, raw);
    // A HEAD response announces a length it does not send.
    return a.request.method === 'HEAD' ? 1 : 0;
  }

  #onComplete(): void {
    const a = this.attempt;
    if (!a || this.#status < 200 || this.#completed) return;
    this.attempt = undefined;
    a.conn = undefined;
    this.#completed = true;
    this.#bodyTimer.disarm();
    // After the head, header lines are the chunked trailer section.
    const trailers = this.#pendingLines;
    this.#pendingLines = [];
    // The handler may have paused the socket for backpressure on the last chunk; its resume() no longer reaches this
    // connection, so a reused one must not stay paused (the next response would never be read).
    if (this.socket.isPaused()) this.socket.resume();
    if (!a.done) {
      a.done = true;
      a.handler.onResponseEnd(a, trailers);
    }
  }

  /** `Keep-Alive: timeout=N` says how long the upstream keeps an idle connection. */
  #readKeepAliveHint(raw: readonly string[]): void {
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length !== 10 || name.toLowerCase() !== 'keep-alive') continue;
      const value = raw[i + 1]!;
      if (value === this.#hintSeen) return; // the same upstream says the same thing on every response
      this.#hintSeen = value;
      const m = /timeout=(\d+)/i.exec(value);
      if (m) this.keepAliveMs = Math.min(Math.max(Number(m[1]) * 1000 - KEEP_ALIVE_MARGIN_MS, 0), MAX_KEEP_ALIVE_MS);
      return;
    }
  }

  /** Ends the current attempt (if any) with `err` and closes the connection: its state is unknown now. */
  fail(err: UpstreamError): void {
    this.#headTimer.disarm();
    this.#bodyTimer.disarm();
    const a = this.attempt;
    this.attempt = undefined;
    if (!this.socket.destroyed) this.socket.destroy();
    if (a) {
      a.conn = undefined;
      a.fail(err);
    }
  }
}

/**
 * A timeout armed once per request on a long-lived connection, without touching Node's timer list each time: arming
 * and activity only move a deadline (a number). The one Timeout fires at the earliest moment the deadline could have
 * passed and, finding it moved on, sleeps for the rest. (`Timeout.refresh()` re-inserts the timer in Node's list on
 * every call: three times per proxied request here, about 1% of the proxy's CPU.)
 */
class DeadlineTimer {
  #timer: NodeJS.Timeout | undefined;
  #ms = 0;
  /** When the countdown ends, in performance.now() time; 0 = disarmed. */
  #deadline = 0;
  /** When the Timeout is due; 0 = none pending. */
  #due = 0;
  readonly #fire: () => void;

  constructor(fire: () => void) {
    this.#fire = fire;
  }

  /** Starts the countdown of `ms` (0 = no limit: disarmed). */
  arm(ms: number): void {
    if (ms <= 0) {
      this.#deadline = 0;
      return;
    }
    this.#ms = ms;
    this.#deadline = performance.now() + ms;
    // A pending Timeout due before the new deadline finds it moved and sleeps on; one due later must be replaced.
    if (this.#due === 0 || this.#due > this.#deadline) this.#schedule(ms);
  }

  /** Activity: restarts the countdown, if armed (the deadline only moves later: the pending Timeout stays). */
  touch(): void {
    if (this.#deadline !== 0) this.#deadline = performance.now() + this.#ms;
  }

  disarm(): void {
    this.#deadline = 0;
  }

  dispose(): void {
    this.#deadline = 0;
    this.#due = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#due = performance.now() + ms;
    this.#timer = setTimeout(() => this.#expired(), ms);
    this.#timer.unref();
  }

  #expired(): void {
    this.#due = 0;
    this.#timer = undefined;
    if (this.#deadline === 0) return; // disarmed meanwhile: the next arm() schedules again
    const left = this.#deadline - performance.now();
    if (left > 0) {
      this.#schedule(left);
      return;
    }
    this.#deadline = 0;
    this.#fire();
  }
}

function onlyLineEnds(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] !== 13 && data[i] !== 10) return false;
  return true;
}

function drained(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
