/**
 * The access log: one JSON line per request onto pino's asynchronous, buffered destination (sonic-boom
 * collecting lines and writing them in the background once 4 KiB are buffered, and at least every second), so writing
 * never holds a response and costs no system call per request. What each line holds, which requests are written (a
 * filter by status or duration, a sample of the rest; answers ≥ 500 always) comes from the ModelGateway
 * (`spec.accessLog`, compiled into the snapshot).
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

export class AccessLog {
  readonly #destination: pino.DestinationStream & { flushSync?: () => void; end?: () => void };

  readonly #timer: NodeJS.Timeout | undefined;

  /** @param destination where lines go (default: standard output, buffered and written asynchronously). */
  constructor(destination?: pino.DestinationStream) {
    if (destination) this.#destination = destination;
    else {
      const buffered = pino.destination({ dest: 1, sync: false, minLength: 4096 });
      this.#destination = buffered;
      // A quiet gateway still shows its lines within a second.
      this.#timer = setInterval(() => this.flush(), 1000);
      this.#timer.unref();
    }
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
      const value = fieldValue(field, record, settled);
      if (value !== undefined && value !== '') line[field] = value;
    }
    // JSON.stringify straight onto pino's destination: the fields are plain strings and numbers, so pino's own
    // serialisation (levels, serializers, child bindings) would only add cost to every request.
    this.#destination.write(`${JSON.stringify(line)}\n`);
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

function fieldValue(field: AccessLogSettings['fields'][number], r: AccessRecord, s: Settled): unknown {
  switch (field) {
    case 'time':
      return new Date().toISOString();
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
