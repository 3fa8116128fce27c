/**
 * The access log: one JSON line per request onto pino's asynchronous destination (sonic-boom), so writing never holds
 * a response and costs no system call per request. What each line holds, which requests are written (a filter by
 * status or duration, a sample of the rest; answers ≥ 500 always) comes from the ModelGateway (`spec.accessLog`,
 * compiled into the snapshot).
 *
 * The destination collects lines as Buffers (sonic-boom's buffer mode) and writes 32 KiB at a time, at least every
 * second. Both choices were measured (a line cost 2.9 µs of CPU in its default text mode with 4 KiB writes, 0.7 µs
 * now): in text mode sonic-boom measures the UTF-8 length of everything it holds on every write, flattening the
 * string it appends to each time; and each write goes through libuv's thread pool, a hand-over worth batching more.
 * What is held is bounded (16 MiB, when standard output is not read fast enough): past it lines are dropped, counted
 * and reported in a warning, never held without end.
 *
 * No field is read from a header, a query string or the configuration's Secrets (the subject is a key's name or a
 * token's `sub`, not the credential), so lines skip the secret redactor the process log runs every line through: it
 * would cost more than the rest of the line.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import type { AccessLogSettings } from '../snapshot/types.ts';

/** What the data plane learns about one request as it passes (filled in where each fact becomes known). */
export interface AccessRecord {
  readonly started: number;
  readonly requestId: string;
  readonly client: string;
  readonly method: string;
  host: string;
  path: string;
  api: string;
  version: string;
  /** Origin of the endpoint of the last attempt. */
  upstream: string;
  /** The policy phase that answered (ip, cors, auth, ratelimit, validation, tokens, cache). */
  policy: string;
  /** The gateway's error name, when the gateway answered with a problem. */
  error: string;
  subject: string;
  retries: number;
  tokens: number | undefined;
  /** The model that served the request through the OpenAI endpoint (a fallback's when one took over). */
  model: string;
  /** When the response head went out (ms after the start), when known. */
  ttfbMs: number | undefined;
  readonly bytesWrittenBefore: number;
}

/**
 * Where the previous exchange on a connection stopped reading: the request head was read before the handler ran, so
 * a request's bytes in are what the connection read since the previous one ended.
 */
const READ_UNTIL = Symbol('modelgate.accessLog.readUntil');
type CountedSocket = { bytesRead?: number; bytesWritten?: number; [READ_UNTIL]?: number };

/** The bytes a connection read for the request that ends now (head and body, as received). */
export function bytesInOf(socket: CountedSocket): number {
  const now = socket.bytesRead ?? 0;
  const before = socket[READ_UNTIL] ?? 0;
  socket[READ_UNTIL] = now;
  return now - before;
}

/** The fields a settled request has. */
interface Settled {
  readonly status: number;
  readonly durationMs: number;
  readonly bytesIn: number | undefined;
  readonly bytesOut: number | undefined;
  readonly cache: string;
}

/** Bytes collected before a write to standard output. */
const BATCH_BYTES = 32 * 1024;
/** Bytes held at most while standard output is slower than the lines come (then lines are dropped). */
export const MAX_HELD_BYTES = 16 * 1024 * 1024;

type Destination = pino.DestinationStream & { flush?: () => void; flushSync?: () => void };

export class AccessLog {
  readonly #destination: Destination;

  /** Writes one line (a Buffer to sonic-boom's buffer mode, the string to another destination). */
  readonly #writeLine: (line: string) => void;

  readonly #timer: NodeJS.Timeout | undefined;

  readonly #warn: (message: string) => void;

  #dropped = 0;

  #warned = false;

  /** The time field, kept for the millisecond it was made in (about a dozen lines share one under load). */
  #timeMs = -1;
  #time = '';

  /**
   * @param destination where lines go (default: standard output, buffered and written asynchronously).
   * @param warn where dropped lines and a failing standard output are reported (the process log).
   * @param output the default destination's file descriptor and bound (tests use a file or a pipe, and a small bound).
   */
  constructor(
    destination?: pino.DestinationStream,
    warn: (message: string) => void = () => {},
    output: { readonly fd: number; readonly maxHeldBytes: number } = { fd: 1, maxHeldBytes: MAX_HELD_BYTES },
  ) {
    this.#warn = warn;
    if (destination) {
      this.#destination = destination;
      this.#writeLine = (line) => destination.write(line);
      return;
    }
    const buffered = pino.destination({
      dest: output.fd,
      sync: false,
      contentMode: 'buffer',
      minLength: BATCH_BYTES,
      maxWrite: 2 * BATCH_BYTES,
      maxLength: output.maxHeldBytes,
    });
    buffered.on('drop', () => this.#drop());
    // pino's destination stops writing on EPIPE (standard output closed); any other error would be an unhandled
    // 'error' event, which ends the process: the access log is not worth the gateway.
    buffered.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') this.#warn(`the access log cannot write to standard output: ${error.message}`);
    });
    this.#destination = buffered;
    this.#writeLine = (line) => buffered.write(Buffer.from(line) as unknown as string);
    // A quiet gateway still shows its lines within a second.
    this.#timer = setInterval(() => this.flush(), 1000);
    this.#timer.unref();
  }

  /** Lines dropped because standard output did not take them fast enough. */
  get dropped(): number {
    return this.#dropped;
  }

  #drop(): void {
    // Counted each time, warned once: a warning per dropped line would only add to what is not being read.
    this.#dropped++;
    if (this.#warned) return;
    this.#warned = true;
    this.#warn(
      'standard output is not taking the access log as fast as it is written: lines are dropped while it holds its bound',
    );
  }

  /** The time as ISO 8601, made once per millisecond. */
  #now(): string {
    const ms = Date.now();
    if (ms !== this.#timeMs) {
      this.#timeMs = ms;
      this.#time = new Date(ms).toISOString();
    }
    return this.#time;
  }

  /** Starts a record for a request. */
  begin(
    started: number,
    requestId: string,
    client: string,
    method: string,
    path: string,
    socket: { readonly bytesRead?: number; readonly bytesWritten?: number } | null,
  ): AccessRecord {
    return {
      started,
      requestId,
      client,
      method,
      host: '',
      path,
      api: '',
      version: '',
      upstream: '',
      policy: '',
      error: '',
      subject: '',
      retries: 0,
      tokens: undefined,
      model: '',
      ttfbMs: undefined,
      bytesWrittenBefore: socket?.bytesWritten ?? 0,
    };
  }

  /** Writes the record's line when the settings want it. */
  write(settings: AccessLogSettings, record: AccessRecord, settled: Settled): void {
    if (!wanted(settings, settled)) return;
    // Each line says it is an access-log line: it shares standard output with the process log.
    const line: Record<string, unknown> = { log: 'access' };
    for (const field of settings.fields) {
      const value = field === 'time' ? this.#now() : fieldValue(field, record, settled);
      if (value !== undefined && value !== '') line[field] = value;
    }
    // JSON.stringify straight onto pino's destination: the fields are plain strings and numbers, so pino's own
    // serialisation (levels, serializers, child bindings) would only add cost to every request.
    this.#writeLine(`${JSON.stringify(line)}\n`);
  }

  /** Writes out what is buffered (at shutdown). */
  flush(): void {
    try {
      (this.#destination as { flush?: () => void }).flush?.();
    } catch {
      // Not open yet (nothing was written): nothing to flush.
    }
  }

  /** Writes out what is buffered, synchronously, and stops the timer (at shutdown). */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    try {
      this.#destination.flushSync?.();
    } catch {
      // Not open yet: nothing to write.
    }
  }
}

function wanted(settings: AccessLogSettings, s: Settled): boolean {
  const filtered = settings.minStatus !== undefined || settings.slowerThanMs !== undefined;
  const matches =
    !filtered ||
    (settings.minStatus !== undefined && s.status >= settings.minStatus) ||
    (settings.slowerThanMs !== undefined && s.durationMs > settings.slowerThanMs);
  if (!matches) return false;
  return s.status >= 500 || settings.sampleRatio >= 1 || Math.random() < settings.sampleRatio;
}

function fieldValue(field: Exclude<AccessLogSettings['fields'][number], 'time'>, r: AccessRecord, s: Settled): unknown {
  switch (field) {
    case 'status':
      return s.status;
    case 'durationMs':
      return Math.round(s.durationMs * 1000) / 1000;
    case 'ttfbMs':
      return Math.round((r.ttfbMs ?? s.durationMs) * 1000) / 1000;
    case 'bytesIn':
      return s.bytesIn;
    case 'bytesOut':
      return s.bytesOut;
    case 'cache':
      return s.cache;
    case 'retries':
      return r.retries;
    default:
      return r[field];
  }
}

/** Starts a request's record; its line is written when the response closes. */
export function openAccessRecord(
  log: AccessLog,
  settings: AccessLogSettings,
  req: IncomingMessage,
  res: ServerResponse,
  started: number,
  requestId: string,
  url: string,
): AccessRecord {
  const socket = req.socket;
  const q = url.indexOf('?');
  const record = log.begin(
    started,
    requestId,
    socket.remoteAddress ?? '',
    req.method ?? '',
    q < 0 ? url : url.slice(0, q),
    socket,
  );
  res.once('close', () => {
    log.write(settings, record, {
      // A response that never started was given up by the client (nginx's 499).
      status: res.headersSent ? res.statusCode : 499,
      durationMs: performance.now() - started,
      bytesIn: bytesInOf(socket),
      bytesOut: socket.bytesWritten - record.bytesWrittenBefore,
      cache: String(res.getHeader('x-cache') ?? ''),
    });
  });
  return record;
}
