/**
 * A TCP upstream that reads HTTP/1.1 requests itself (head, then a Content-Length or chunked body) and answers each
 * with whatever bytes a test script writes: the way to put malformed, split, early, unsolicited or half-finished
 * responses in front of a client. Every request is logged with the connection it came on.
 */
import { once } from 'node:events';
import net from 'node:net';

/** One request as the upstream read it. */
export interface RawRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-case names, in order. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** Which connection (1, 2, …) and which request on it (1, 2, …). */
  readonly connection: number;
  readonly index: number;
}

export type RawScript = (req: RawRequest, socket: net.Socket) => void;

export interface RawUpstream {
  readonly origin: string;
  readonly port: number;
  readonly requests: RawRequest[];
  /** Connections accepted so far. */
  readonly connections: () => number;
  /** Sockets currently open. */
  readonly sockets: Set<net.Socket>;
  close(): Promise<void>;
}

export interface RawUpstreamOptions {
  /** Answer as soon as the head is read (the body, if any, is read and dropped afterwards). */
  readonly answerAtHead?: boolean;
  /** Called for each new connection before anything is read. */
  readonly onConnection?: (socket: net.Socket, id: number) => void;
}

/** Starts a raw upstream on 127.0.0.1, port 0. */
export async function rawUpstream(script: RawScript, options: RawUpstreamOptions = {}): Promise<RawUpstream> {
  const requests: RawRequest[] = [];
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    const id = ++accepted;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    options.onConnection?.(socket, id);
    const reader = new RequestReader(
      id,
      (req) => {
        requests.push(req);
        script(req, socket);
      },
      options.answerAtHead === true,
    );
    socket.on('data', (d: Buffer) => {
      if (!reader.push(d)) socket.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    connections: () => accepted,
    sockets,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Incremental request reader: head, then body by Content-Length or chunked framing. */
class RequestReader {
  #buffer = Buffer.alloc(0);
  #index = 0;
  readonly #connection: number;
  readonly #emit: (req: RawRequest) => void;
  readonly #atHead: boolean;
  /** Body bytes still to drop for a request answered at its head. */
  #skip: { length: number } | { chunked: true } | undefined;

  constructor(connection: number, emit: (req: RawRequest) => void, atHead: boolean) {
    this.#connection = connection;
    this.#emit = emit;
    this.#atHead = atHead;
  }

  /** False when the bytes are not a request this reader understands. */
  push(data: Buffer): boolean {
    this.#buffer = Buffer.concat([this.#buffer, data]);
    for (;;) {
      if (this.#skip) {
        if ('length' in this.#skip) {
          const n = Math.min(this.#skip.length, this.#buffer.length);
          this.#buffer = this.#buffer.subarray(n);
          this.#skip.length -= n;
          if (this.#skip.length > 0) return true;
          this.#skip = undefined;
        } else {
          const body = readChunked(this.#buffer);
          if (body === undefined) return true;
          if (body === null) return false;
          this.#buffer = this.#buffer.subarray(body.consumed);
          this.#skip = undefined;
        }
      }
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end < 0) return this.#buffer.length < 64 * 1024;
      const lines = this.#buffer.subarray(0, end).toString('latin1').split('\r\n');
      const [method = '', path = ''] = lines[0]!.split(' ');
      const headers = lines.slice(1).map((l) => {
        const colon = l.indexOf(':');
        return [l.slice(0, colon).trim().toLowerCase(), l.slice(colon + 1).trim()] as const;
      });
      const rest = this.#buffer.subarray(end + 4);
      const length = headers.find(([n]) => n === 'content-length')?.[1];
      const chunked = headers.some(([n, v]) => n === 'transfer-encoding' && v.toLowerCase().includes('chunked'));
      const base = { method, path, headers, connection: this.#connection, index: ++this.#index };
      if (this.#atHead) {
        this.#buffer = rest;
        this.#skip = chunked ? { chunked: true } : { length: Number(length ?? 0) };
        this.#emit({ ...base, body: Buffer.alloc(0) });
        continue;
      }
      if (chunked) {
        const body = readChunked(rest);
        if (body === null) return false;
        if (body === undefined) {
          this.#index--;
          return true;
        }
        this.#buffer = rest.subarray(body.consumed);
        this.#emit({ ...base, body: body.data });
        continue;
      }
      const n = Number(length ?? 0);
      if (rest.length < n) {
        this.#index--;
        return true;
      }
      this.#buffer = rest.subarray(n);
      this.#emit({ ...base, body: Buffer.from(rest.subarray(0, n)) });
    }
  }
}

/** A chunked body at the start of `buf`: undefined while incomplete, null when malformed. */
function readChunked(buf: Buffer): { data: Buffer; consumed: number } | undefined | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = Number.parseInt(buf.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size) || size < 0) return null;
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', eol);
      if (end < 0) return undefined;
      return { data: Buffer.concat(parts), consumed: end + 4 };
    }
    if (buf.length < eol + 2 + size + 2) return undefined;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
