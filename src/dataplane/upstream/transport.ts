/**
 * The seam between the forwarder and the HTTP/1.1 client that carries a request to one upstream origin. It has the
 * shape of undici's dispatcher handler interface (onRequestStart … onResponseEnd/onResponseError with a controller),
 * so the hand-written client (`native-pool.ts`, the default: the cheaper one on the hot path) and undici itself
 * (`undici-pool.ts`, the reference implementation) are interchangeable behind it and run one conformance table
 * (test/dataplane/transport-conformance.test.ts) and one differential fuzzer.
 */
import type { UpstreamTls } from '../../snapshot/types.ts';

/** Why an upstream attempt failed. */
export type FailureKind = 'connect' | 'reset' | 'timeout' | 'protocol' | 'status' | 'too-large' | 'aborted';

/** A failed attempt: its kind decides retries and the answer (502/503/504). */
export class UpstreamError extends Error {
  readonly kind: FailureKind;
  readonly code: string | undefined;
  constructor(kind: FailureKind, message: string, code?: string) {
    super(message);
    this.kind = kind;
    this.code = code;
  }
}

/** Where and how to connect. */
export interface UpstreamOrigin {
  /** `http://host:port` or `https://host:port`. */
  readonly origin: string;
  /** Most connections open at once; further requests wait in order. */
  readonly connections: number;
  readonly connectTimeoutMs: number;
  /** HTTPS: the CA to verify against (else the system's), the SNI/verification name, a client certificate. */
  readonly tls?: UpstreamTls;
}

/** One request. Headers are a flat [name, value, …] list; the client frames the body itself. */
export interface UpstreamRequest {
  readonly method: string;
  /** Path with query. */
  readonly path: string;
  readonly headers: readonly string[];
  /** A Buffer is sent with its length; an iterable streams (chunked unless the headers declare a content-length). */
  readonly body: Buffer | AsyncIterable<Buffer> | null;
  /** Most ms until the response head arrives; 0 = no limit. */
  readonly headersTimeout: number;
  /** Most ms of silence while the body streams; 0 = no limit. */
  readonly bodyTimeout: number;
}

/** What a handler can do to its request in flight. */
export interface UpstreamController {
  /** Ends the exchange now; the handler's onResponseError gets `reason` (kind `aborted` unless it says otherwise). */
  abort(reason: Error): void;
  /** Backpressure: stop reading the response until resume(). */
  pause(): void;
  resume(): void;
}

/** Receives one exchange's events; exactly one of onResponseEnd / onResponseError ends it. */
export interface UpstreamHandler {
  onRequestStart(controller: UpstreamController): void;
  /** The final response head (1xx are skipped); headers as a flat list, names as the upstream spelled them. */
  onResponseStart(controller: UpstreamController, status: number, rawHeaders: readonly string[]): void;
  onResponseData(controller: UpstreamController, chunk: Buffer): void;
  /** The body is complete; `trailers` are the chunked trailer fields as a flat list (empty when none came). */
  onResponseEnd(controller: UpstreamController, trailers: readonly string[]): void;
  onResponseError(controller: UpstreamController, err: UpstreamError): void;
}

/** Connections to one origin, whichever client makes them. */
export interface UpstreamTransport {
  readonly origin: string;
  /** Connections open now (idle or busy). */
  readonly openConnections: number;
  /** Sends a request; its outcome comes to `handler`. */
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void;
  /** Lets requests in flight and queued finish, then closes every connection. */
  close(): Promise<void>;
}

/** The clients behind the seam: `native` (default) and `undici`. */
export type TransportKind = 'native' | 'undici';

/**
 * A method and request target that can be written on a request line as they are: a method is a token (RFC 9110
 * §5.6.2) and a target holds no whitespace, control or non-ASCII byte. Checked for every request by both clients: a
 * rewritten path comes from configuration, and a line break in it would start a second request.
 */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TARGET = /^[\x21-\x7e]+$/;
export function requestLineError(method: string, path: string): string | undefined {
  if (!TOKEN.test(method)) return `the method ${JSON.stringify(method)} is not a token`;
  if (!TARGET.test(path) || path.charCodeAt(0) !== 47 /* / */)
    return `the request target ${JSON.stringify(path)} is not an origin-form path`;
  return undefined;
}

/**
 * A whole exchange whose body does not matter (health probes, mirrors): resolves with the status, or rejects with the
 * failure. The body is read and dropped so the connection can be reused.
 */
export function exchangeStatus(
  transport: UpstreamTransport,
  request: Omit<UpstreamRequest, 'bodyTimeout'> & { readonly timeoutMs: number },
): Promise<number> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let timer: NodeJS.Timeout | undefined;
    transport.dispatch(
      { ...request, bodyTimeout: request.timeoutMs },
      {
        onRequestStart(controller) {
          if (request.timeoutMs > 0)
            timer = setTimeout(
              () => controller.abort(new UpstreamError('timeout', `no answer within ${request.timeoutMs} ms`)),
              request.timeoutMs,
            );
        },
        onResponseStart(_c, s) {
          status = s;
        },
        onResponseData() {},
        onResponseEnd() {
          clearTimeout(timer);
          resolve(status);
        },
        onResponseError(_c, err) {
          clearTimeout(timer);
          reject(err);
        },
      },
    );
  });
}

/** A small GET answer read whole: status and body, refused beyond `maxBytes` (metrics scrapes). */
export function exchangeText(
  transport: UpstreamTransport,
  request: Omit<UpstreamRequest, 'bodyTimeout'> & { readonly timeoutMs: number; readonly maxBytes: number },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let size = 0;
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    transport.dispatch(
      { ...request, bodyTimeout: request.timeoutMs },
      {
        onRequestStart(controller) {
          timer = setTimeout(
            () => controller.abort(new UpstreamError('timeout', `no answer within ${request.timeoutMs} ms`)),
            request.timeoutMs,
          );
        },
        onResponseStart(_c, s) {
          status = s;
        },
        onResponseData(controller, chunk) {
          size += chunk.length;
          if (size > request.maxBytes) {
            controller.abort(new UpstreamError('too-large', `the answer exceeds ${request.maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        },
        onResponseEnd() {
          clearTimeout(timer);
          resolve({ status, body: Buffer.concat(chunks).toString('utf8') });
        },
        onResponseError(_c, err) {
          clearTimeout(timer);
          reject(err);
        },
      },
    );
  });
}
