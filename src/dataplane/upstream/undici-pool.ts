/**
 * The upstream transport on undici's Pool: the reference the hand-written client is held against (one conformance
 * table and one differential fuzzer run both), and a choice for users (`spec.upstream.transport: Undici` on the
 * ModelGateway) who would rather run the library with hundreds of tests behind it than the cheaper client.
 *
 * It only adapts shapes: our flat header lists and failure kinds to and from undici's dispatcher interface.
 */
import { Pool } from 'undici';
import {
  type FailureKind,
  requestLineError,
  type UpstreamController,
  UpstreamError,
  type UpstreamHandler,
  type UpstreamOrigin,
  type UpstreamRequest,
  type UpstreamTransport,
} from './transport.ts';

/** Idle connections are not reused after this long without a `Keep-Alive: timeout` hint (as the native client). */
const DEFAULT_KEEP_ALIVE_MS = 4_000;

/** undici's controller, as its dispatcher hands it to handlers. */
interface DispatchController {
  readonly rawHeaders?: unknown;
  readonly rawTrailers?: unknown;
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
}

/** Connections to one origin through undici. */
export class UndiciPool implements UpstreamTransport {
  readonly origin: string;
  readonly #pool: Pool;
  #closing = false;

  constructor(options: UpstreamOrigin) {
    this.origin = options.origin;
    const t = options.tls;
    this.#pool = new Pool(options.origin, {
      connections: options.connections,
      pipelining: 1,
      allowH2: false,
      keepAliveTimeout: DEFAULT_KEEP_ALIVE_MS,
      keepAliveTimeoutThreshold: 1_000,
      // Per request (UpstreamRequest) instead; 0 = no limit.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: {
        timeout: options.connectTimeoutMs,
        ...(t?.serverName ? { servername: t.serverName } : {}),
        ...(t?.caPem ? { ca: t.caPem } : {}),
        ...(t?.certPem ? { cert: t.certPem, key: t.keyPem } : {}),
      },
    });
  }

  get openConnections(): number {
    return this.#pool.stats.connected;
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    const controller = new Controller();
    const bad = requestLineError(request.method, request.path);
    if (bad) {
      handler.onRequestStart(controller);
      handler.onResponseError(controller, new UpstreamError('protocol', bad));
      return;
    }
    if (this.#closing) {
      handler.onRequestStart(controller);
      handler.onResponseError(
        controller,
        new UpstreamError('connect', `the connection pool for ${this.origin} is closed`),
      );
      return;
    }
    let ended = false;
    const end = (err: UpstreamError | undefined, trailers: readonly string[] = []) => {
      if (ended) return;
      ended = true;
      if (err) handler.onResponseError(controller, err);
      else handler.onResponseEnd(controller, trailers);
    };
    let headers = request.headers;
    // A Buffer is framed by its own length; a stream keeps the length its headers declare (as the native client).
    if (Buffer.isBuffer(request.body)) headers = withoutContentLength(headers);
    try {
      this.#pool.dispatch(
        {
          method: request.method,
          path: request.path,
          headers: headers as string[],
          body: request.body as Buffer | null,
          headersTimeout: request.headersTimeout,
          bodyTimeout: request.bodyTimeout,
          // Retried by the forwarder's policy, never by undici.
          idempotent: false,
          blocking: true,
        },
        {
          onRequestStart(c: DispatchController) {
            controller.target = c;
            handler.onRequestStart(controller);
          },
          onResponseStart(c: DispatchController, status: number) {
            if (status < 200 || ended) return; // informational: the final response follows
            handler.onResponseStart(controller, status, flatHeaders(c.rawHeaders));
          },
          onResponseData(_c: DispatchController, chunk: Buffer) {
            if (!ended) handler.onResponseData(controller, chunk);
          },
          onResponseEnd(c: DispatchController) {
            end(undefined, flatHeaders(c.rawTrailers));
          },
          onResponseError(_c: DispatchController, err: Error) {
            end(asUpstreamError(err, request));
          },
        },
      );
    } catch (err) {
      // Arguments undici refuses (a header it does not allow, say) throw before anything is sent.
      end(new UpstreamError('protocol', (err as Error).message, (err as { code?: string }).code));
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#pool.close();
  }
}

/** Our controller over undici's (set once the request starts; abort before that is remembered). */
class Controller implements UpstreamController {
  #target: DispatchController | undefined;
  #abortedWith: Error | undefined;

  set target(c: DispatchController) {
    this.#target = c;
    if (this.#abortedWith) c.abort(this.#abortedWith);
  }

  abort(reason: Error): void {
    if (this.#target) this.#target.abort(reason);
    else this.#abortedWith = reason;
  }

  pause(): void {
    this.#target?.pause();
  }

  resume(): void {
    this.#target?.resume();
  }
}

function withoutContentLength(headers: readonly string[]): readonly string[] {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length === 14 && headers[i]!.toLowerCase() === 'content-length') {
      const out: string[] = [];
      for (let j = 0; j < headers.length; j += 2) {
        if (headers[j]!.toLowerCase() !== 'content-length') out.push(headers[j]!, headers[j + 1]!);
      }
      return out;
    }
  }
  return headers;
}

/**
 * undici's raw header list (Buffers, or strings) as our flat string list. Values lose surrounding whitespace, which
 * is not part of a field value (RFC 9110 §5.5) and which undici keeps (Node's parser drops it).
 */
function flatHeaders(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((v, i) => {
    const s = typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('latin1');
    return i % 2 === 1 ? s.replace(/^[ \t]+|[ \t]+$/g, '') : s;
  });
}

/** Codes of failures before the upstream could see the request. */
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** undici's error as a failure kind (timeouts worded as the native client words them). */
export function asUpstreamError(err: Error, request: UpstreamRequest): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT')
    return new UpstreamError('timeout', `no response head within ${request.headersTimeout} ms`, code);
  if (code === 'UND_ERR_BODY_TIMEOUT')
    return new UpstreamError('timeout', `no data from the upstream for ${request.bodyTimeout} ms`, code);
  let kind: FailureKind;
  if (code === 'MG_BODY_TOO_LARGE') kind = 'too-large';
  else if (code !== undefined && CONNECT_CODES.has(code)) kind = 'connect';
  else if (code === 'UND_ERR_ABORTED' || err.name === 'AbortError') kind = 'aborted';
  else if (err.name === 'HTTPParserError' || err.message === 'bad upgrade' || err.message === 'bad response')
    // What the upstream sent is not HTTP/1.1 (undici reports some of it as a socket error).
    kind = 'protocol';
  else if (
    code === 'UND_ERR_SOCKET' ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'UND_ERR_CLOSED' ||
    code === 'UND_ERR_DESTROYED'
  )
    kind = 'reset';
  else if (code?.startsWith('HPE_') || code?.startsWith('UND_ERR_') || code?.startsWith('ERR_TLS') || isTlsCode(code))
    kind = 'protocol';
  else kind = 'aborted';
  return new UpstreamError(kind, err.message, code);
}

function isTlsCode(code: string | undefined): boolean {
  return (
    code !== undefined &&
    (code.startsWith('CERT_') ||
      code.includes('SELF_SIGNED') ||
      code.startsWith('UNABLE_TO_') ||
      code.startsWith('ERR_SSL') ||
      code === 'ERR_TLS_CERT_ALTNAME_INVALID')
  );
}
