/**
 * Forwards one request to a cluster: picks an endpoint, streams the body up and the response down without buffering,
 * and retries failures that the retry policy, the request's body and the retry budget allow.
 *
 * Bodies: a request whose body is small and of known length, and that may be retried, is read into memory first so
 * it can be replayed; any other body streams straight through and is sent once. Responses always stream: each chunk
 * is written to the client as it arrives (SSE and chunked responses are never held back), with backpressure.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorName } from '../errors/catalog.ts';
import { sendProblem } from '../errors/problem.ts';
import type { HeaderModifier, RetryPolicy, RouteTimeouts } from '../snapshot/types.ts';
import { closeAfterAnswer, whileBodyArrives } from './client-connections.ts';
import type { Endpoint } from './endpoint.ts';
import { downstreamHeaderList, headerInList, headerObject, setHeaderInList, setHeadersFromList } from './headers.ts';
import { hasRequestBody } from './request-body.ts';
import { modifyHeaderObject } from './route-filters.ts';
import {
  type FailureKind,
  type UpstreamController,
  UpstreamError,
  type UpstreamHandler,
} from './upstream/transport.ts';
import type { RuntimeCluster } from './upstream-registry.ts';

export type { FailureKind } from './upstream/transport.ts';

/** Bodies up to this size are buffered so that a retry can resend them. */
export const REPLAYABLE_BODY_BYTES = 256 * 1024;

/** Everything one forwarded request needs. */
export interface ForwardRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly cluster: RuntimeCluster;
  readonly method: string;
  /** Upstream path with query. */
  readonly path: string;
  readonly headers: string[];
  readonly timeouts: RouteTimeouts;
  readonly retry: RetryPolicy;
  readonly maxBodyBytes: number;
  readonly requestId: string;
  /** When the request arrived (performance.now()): the route's request timeout counts from here, upload included. */
  readonly startedAt: number;
  /** Policy headers for the answer (RateLimit), as a flat list; set on the response before any answer of its own. */
  readonly extraHeaders?: readonly string[] | undefined;
  /** Extra response headers the gateway adds besides x-request-id (the serving model version, deprecation). */
  readonly responseHeaders: Readonly<Record<string, string>>;
  /**
   * The request body when a policy already read it (validation, cache key, token accounting): sent as is and
   * replayable. The headers must describe it (content-length).
   */
  readonly body?: Buffer;
  /** Sees (and may rewrite) the response body of the final attempt: cache fill, token usage. */
  readonly tap?: (status: number, headers: Readonly<Record<string, string | string[]>>) => ResponseTap | undefined;
  /** HTTPRoute ResponseHeaderModifier filters, applied in order after everything else. */
  readonly responseModifiers?: readonly HeaderModifier[];
  /** Called once with the status sent to the client (for metrics); `upstreamError` names a failed attempt's kind. */
  readonly onStatus: (status: number) => void;
  /**
   * Another model to try instead (the OpenAI endpoint's fallbacks): asked when this exchange would end in a connect
   * failure, a timeout, no healthy endpoint, 429 or 5xx — only while nothing has been sent to the client. When it is
   * `available`, the exchange ends silently and `run` continues the request elsewhere.
   */
  readonly fallback?: Fallback;
  readonly onUpstreamError: (kind: FailureKind) => void;
  readonly onRetry: () => void;
  /** Called with the origin of the endpoint each attempt goes to (the access log). */
  readonly onAttempt?: ((origin: string) => void) | undefined;
  /** Called with the status of each attempt's answer (tracing). */
  readonly onAttemptStatus?: ((status: number) => void) | undefined;
  /** Called when the gateway answers the request itself (no endpoint, timeout, bad answer), with the error's name. */
  readonly onProblem?: ((name: ErrorName) => void) | undefined;
  /** Called once when the exchange is over, however it ended. */
  readonly onDone: () => void;
}

/** A policy's view of one response body as it streams through. */
export interface ResponseTap {
  /** True when `data` may change the bytes (the content-length is dropped, the response is chunked). */
  readonly rewrites: boolean;
  /** Each chunk as it arrives; returns what the client gets (possibly empty). */
  data(chunk: Buffer): Buffer;
  /** The body is complete; returns trailing bytes for the client, if any. */
  end(): Buffer | undefined;
  /** The body will not complete (upstream or client failure). */
  abort(): void;
}

/** Why a request moves on to a fallback model. */
export type FallbackCause = 'connect' | 'timeout' | 'unavailable' | 'status-429' | 'status-5xx';

/** See ForwardRequest.fallback. */
export interface Fallback {
  available(): boolean;
  run(cause: FallbackCause): void;
}

/** Methods whose requests can be repeated without a different effect (RFC 9110 §9.2.2): retried after a reset too. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Response trailer fields that are never relayed: framing, routing and content metadata (RFC 9110 §6.5.1). */
const TRAILERS_NOT_RELAYED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'content-type',
  'content-encoding',
  'content-range',
  'host',
  'authorization',
  'set-cookie',
  'www-authenticate',
  'cache-control',
  'expires',
  'location',
  'retry-after',
  'x-request-id',
]);

class BodyTooLargeError extends Error {
  readonly code = 'MG_BODY_TOO_LARGE';
}

/** Starts forwarding; the response is completed asynchronously. */
export function forward(f: ForwardRequest): void {
  if (f.body !== undefined) {
    new Exchange(f, f.body, true).start();
    return;
  }
  const lengthHeader = f.req.headers['content-length'];
  const length = lengthHeader === undefined ? undefined : Number(lengthHeader);
  const hasBody = hasRequestBody(f.req);
  if (length !== undefined && length > f.maxBodyBytes) {
    tooLarge(f);
    return;
  }
  const mayRetry = f.retry.attempts > 0;
  if (!hasBody) {
    new Exchange(f, null, mayRetry).start();
  } else if (mayRetry && length !== undefined && length <= REPLAYABLE_BODY_BYTES) {
    readBody(f, length);
  } else {
    // Streamed once; only failures before the body was touched (connect) are retried.
    const body = length === undefined ? limitBody(f.req, f.maxBodyBytes) : f.req;
    new Exchange(f, body, false).start();
  }
}

function readBody(f: ForwardRequest, length: number): void {
  const chunks: Buffer[] = [];
  let received = 0;
  let settled = false;
  let deadline: NodeJS.Timeout | undefined;
  const settle = (): boolean => {
    if (settled) return false;
    settled = true;
    if (deadline !== undefined) clearTimeout(deadline);
    f.req.off('data', onData);
    return true;
  };
  const expire = (detail: string) => {
    if (!settle()) return;
    closeAfterAnswer(f.res); // the rest of the body never came: the connection cannot carry another request
    finishWithProblem(f, 'requestTimeout', detail);
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    chunks.push(chunk);
  };
  f.req.on('data', onData);
  f.req.once('end', () => {
    if (!settle()) return;
    if (received !== length) {
      finishWithProblem(f, 'malformedRequest', `request body has ${received} bytes, Content-Length says ${length}`);
      return;
    }
    new Exchange(f, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received), true).start();
  });
  f.req.once('error', () => {
    if (settle()) f.onDone();
  });
  // Deadlines for a body still on its way (one that came with the head needs none).
  whileBodyArrives(f.req, () => {
    if (settled) return;
    deadline = requestDeadline(f, () =>
      expire(`the request body did not arrive within the route timeout (${f.timeouts.requestMs} ms)`),
    );
    // The listener's body timeout: the client went silent mid-body (client-connections.ts).
    f.req.once('timeout', () => expire('the request body stalled'));
  });
}

/**
 * The route's request timeout while a body is read before forwarding: it counts from the request's arrival, so an
 * upload that stalls is cut like an upstream that does (a timer only when the route has a timeout).
 */
export function requestDeadline(f: ForwardRequest, expired: () => void): NodeJS.Timeout | undefined {
  if (f.timeouts.requestMs <= 0) return undefined;
  const left = Math.max(f.startedAt + f.timeouts.requestMs - performance.now(), 0);
  return setTimeout(expired, left);
}

async function* limitBody(req: IncomingMessage, max: number): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > max) throw new BodyTooLargeError(`request body exceeds ${max} bytes`);
    yield chunk as Buffer;
  }
}

function tooLarge(f: ForwardRequest): void {
  // Do not read a body we refused; close the connection after the answer instead (set before the head is written).
  closeAfterAnswer(f.res);
  finishWithProblem(f, 'payloadTooLarge', `request body exceeds the limit of ${f.maxBodyBytes} bytes`, {
    limit: f.maxBodyBytes,
  });
}

/** Puts the policy headers on the response when it is answered some other way than by the forwarded header list. */
function setExtraHeaders(f: ForwardRequest): void {
  if (f.extraHeaders) setHeadersFromList(f.res, f.extraHeaders);
}

function finishWithProblem(
  f: ForwardRequest,
  name: ErrorName,
  detail: string,
  extensions?: Record<string, unknown>,
): void {
  const alreadyStarted = f.res.headersSent;
  setExtraHeaders(f);
  sendProblem(f.res, name, detail, {
    instance: f.req.url ?? '/',
    requestId: f.requestId,
    ...(extensions ? { extensions } : {}),
  });
  f.onProblem?.(name);
  if (!alreadyStarted) f.onStatus(f.res.statusCode);
  f.onDone();
}

/** One request's journey through one or more upstream attempts. */
class Exchange implements UpstreamHandler {
  readonly #f: ForwardRequest;
  readonly #body: Buffer | IncomingMessage | AsyncGenerator<Buffer> | null;
  readonly #replayable: boolean;
  /** performance.now() by which the response head must have arrived (the route's request timeout). */
  readonly #deadline: number;
  readonly #tried = new Set<Endpoint>();
  #attempt = 0;
  #endpoint: Endpoint | undefined;
  #controller: UpstreamController | undefined;
  #retryingStatus = false;
  /** How the last failed attempt would be answered, when no endpoint is left to retry on. */
  #lastFailure: { readonly name: ErrorName; readonly detail: string } | undefined;
  /**
   * The response head, ready but not yet written: it goes out with the first body bytes, the end, or (for a
   * streamed body) at the end of the read it came in. Until then a failure can still be answered with a problem
   * instead of a cut connection — an upstream whose chunk framing is broken right after its head, say.
   */
  #head: { readonly status: number; readonly headers: string[] | Record<string, string | string[]> } | undefined;
  /** Bytes of the response body still to come when the upstream sent a content-length; -1 when streamed. */
  #bodyLeft = -1;
  #clientGone = false;
  #finished = false;
  #countedRetry = false;
  #tap: ResponseTap | undefined;
  /** The client stopped sending the body it streams (answered 408, not as an upstream failure). */
  #bodyStalled = false;
  /** The answer's head said 429/5xx and a fallback takes over once the attempt is let go. */
  #fallingBack: FallbackCause | undefined;
  /** The prompt's block hashes, for a balancer that routes by prompt prefix (InferenceAware); else undefined. */
  readonly #prompt: Uint32Array | undefined;

  constructor(f: ForwardRequest, body: Buffer | IncomingMessage | AsyncGenerator<Buffer> | null, replayable: boolean) {
    this.#f = f;
    this.#body = body;
    this.#replayable = replayable;
    const balancer = f.cluster.balancer;
    this.#prompt = balancer.readsPrompt && Buffer.isBuffer(body) ? balancer.promptOf?.(body) : undefined;
    this.#deadline = f.timeouts.requestMs > 0 ? f.startedAt + f.timeouts.requestMs : Number.POSITIVE_INFINITY;
    f.res.once('close', () => {
      if (!f.res.writableFinished) {
        this.#clientGone = true;
        this.#controller?.abort(new Error('client closed the connection'));
      }
    });
    f.cluster.retryBudget.active++;
    if (body !== null && !Buffer.isBuffer(body)) {
      // The client went silent mid-body while it streams to the model (the listener's body timeout): 408.
      f.req.once('timeout', () => {
        this.#bodyStalled = true;
        this.#controller?.abort(new UpstreamError('aborted', 'the request body stalled'));
      });
    }
  }

  start(): void {
    const now = Date.now();
    const balancer = this.#f.cluster.balancer;
    // Another endpoint first; a retry may go back to one already tried (a single endpoint's transient reset) when
    // none other is available.
    const endpoint =
      balancer.pick(now, this.#tried, this.#prompt) ??
      (this.#attempt > 0 ? balancer.pick(now, undefined, this.#prompt) : undefined);
    if (!endpoint) {
      if (this.#lastFailure) {
        this.#fail(this.#lastFailure.name, this.#lastFailure.detail);
        return;
      }
      const detail =
        this.#f.cluster.endpoints.length === 0
          ? `no endpoints are resolved for ${this.#f.cluster.config.name}`
          : `no healthy endpoint for ${this.#f.cluster.config.name}`;
      this.#fail('upstreamUnavailable', this.#attempt === 0 ? detail : `${detail} after ${this.#attempt} attempt(s)`);
      return;
    }
    const remaining = this.#deadline - performance.now();
    if (remaining <= 0) {
      this.#fail('upstreamTimeout', `no response within ${this.#f.timeouts.requestMs} ms`);
      return;
    }
    const perTry = this.#f.timeouts.backendRequestMs > 0 ? this.#f.timeouts.backendRequestMs : Number.POSITIVE_INFINITY;
    const headersTimeout = Math.min(perTry, remaining);
    this.#attempt++;
    this.#endpoint = endpoint;
    this.#f.onAttempt?.(endpoint.origin);
    this.#tried.add(endpoint);
    endpoint.active++;
    this.#retryingStatus = false;
    endpoint.pool.dispatch(
      {
        path: this.#f.path,
        method: this.#f.method,
        headers: this.#f.headers,
        body: this.#body,
        headersTimeout: Number.isFinite(headersTimeout) ? Math.ceil(headersTimeout) : 0,
        bodyTimeout: this.#f.timeouts.idleMs,
      },
      this,
    );
  }

  onRequestStart(controller: UpstreamController): void {
    this.#controller = controller;
    if (this.#clientGone) controller.abort(new Error('client closed the connection'));
  }

  onResponseStart(controller: UpstreamController, statusCode: number, rawHeaders: readonly string[]): void {
    const endpoint = this.#endpoint!;
    this.#f.onAttemptStatus?.(statusCode);
    if (statusCode >= 500) {
      endpoint.failed(Date.now(), () => this.#f.cluster.mayEject());
      if (this.#retryableStatus(statusCode) && this.#canRetry('status')) {
        this.#retryingStatus = true;
        controller.abort(new Error('retrying'));
        return;
      }
    } else {
      endpoint.succeeded();
    }
    if ((statusCode === 429 || statusCode >= 500) && !this.#clientGone && this.#mayFallBack()) {
      // Nothing has reached the client: this answer is dropped and another model asked (see onResponseError).
      this.#fallingBack = statusCode === 429 ? 'status-429' : 'status-5xx';
      controller.abort(new Error('falling back to another model'));
      return;
    }
    let length: string | string[] | undefined;
    if (this.#f.tap === undefined && this.#f.responseModifiers === undefined) {
      // The common case: a flat header list straight into writeHead, no object with the upstream's names as keys.
      const list = downstreamHeaderList(rawHeaders, this.#f.responseHeaders);
      list.push('x-request-id', this.#f.requestId);
      for (const name in this.#f.responseHeaders) list.push(name, this.#f.responseHeaders[name]!);
      const extra = this.#f.extraHeaders;
      if (extra) {
        // The gateway's policy headers replace any the upstream sent under the same names.
        for (let i = 0; i < extra.length; i += 2) setHeaderInList(list, extra[i]!, extra[i + 1]!);
      }
      this.#head = { status: statusCode, headers: list };
      length = headerInList(list, 'content-length');
    } else {
      const out = headerObject(downstreamHeaderList(rawHeaders, this.#f.responseHeaders));
      out['x-request-id'] = this.#f.requestId;
      Object.assign(out, this.#f.responseHeaders);
      if (this.#f.responseModifiers) for (const m of this.#f.responseModifiers) modifyHeaderObject(out, m);
      const tap = this.#f.tap?.(statusCode, out);
      if (tap?.rewrites) delete out['content-length'];
      this.#tap = tap;
      this.#head = { status: statusCode, headers: out };
      length = tap?.rewrites ? undefined : out['content-length'];
    }
    this.#bodyLeft = typeof length === 'string' ? Number(length) : -1;
    // A streamed response (no length: SSE, chunked) must show its start even before its first event. The flush waits
    // for the end of this read, so when the first event came in the same read it leaves in the same write as the
    // headers; a response with a length keeps its headers until the body (one syscall instead of two).
    if (this.#bodyLeft < 0) {
      queueMicrotask(() => {
        if (this.#head === undefined || this.#finished || this.#f.res.destroyed) return;
        this.#writeHead();
        this.#f.res.flushHeaders();
      });
    }
  }

  /** Writes the held response head (the policy headers that are set on the response go with it). */
  #writeHead(): void {
    const head = this.#head;
    if (head === undefined) return;
    this.#head = undefined;
    const res = this.#f.res;
    if (!Array.isArray(head.headers)) setExtraHeaders(this.#f);
    res.writeHead(head.status, head.headers);
    this.#f.onStatus(head.status);
  }

  onResponseData(controller: UpstreamController, data: Buffer): void {
    let chunk = data;
    if (this.#tap) {
      chunk = this.#tap.data(data);
      if (chunk.length === 0) return;
    }
    if (this.#head !== undefined) this.#writeHead();
    if (this.#bodyLeft > 0) {
      this.#bodyLeft -= chunk.length;
      if (this.#bodyLeft === 0) {
        // The last bytes: headers (if still held), body and end go out together. The tap sees the end here: the
        // upstream's end event may come after the client already has everything.
        this.#endTap();
        this.#f.res.end(chunk);
        return;
      }
    }
    if (!this.#f.res.write(chunk)) {
      controller.pause();
      this.#f.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(_controller: UpstreamController, trailers: readonly string[] = []): void {
    this.#release();
    const trailing = this.#endTap();
    if (this.#head !== undefined) this.#writeHead();
    const res = this.#f.res;
    if (!res.writableEnded) {
      if (trailers.length > 0) relayTrailers(res, trailers);
      res.end(trailing);
    }
    this.#finish();
  }

  #endTap(): Buffer | undefined {
    const tap = this.#tap;
    this.#tap = undefined;
    return tap?.end();
  }

  onResponseError(_controller: UpstreamController, err: UpstreamError): void {
    const endpoint = this.#endpoint;
    this.#release();
    if (this.#retryingStatus) {
      this.#retry();
      return;
    }
    const fallingBack = this.#fallingBack;
    if (fallingBack !== undefined) {
      this.#fallingBack = undefined;
      this.#handOver(fallingBack);
      return;
    }
    // A head that was held back is dropped: nothing has reached the client, so it can still get a proper answer.
    if (this.#head !== undefined) {
      this.#head = undefined;
      this.#tap?.abort();
      this.#tap = undefined;
      this.#bodyLeft = -1;
    }
    if (this.#clientGone) {
      this.#finish();
      return;
    }
    const kind = err.kind;
    const res = this.#f.res;
    if (res.headersSent) {
      // Mid-stream failure: the status is out, so cut the connection; the client sees an incomplete body, never a hang.
      this.#f.onUpstreamError(kind);
      res.destroy(err);
      this.#finish();
      return;
    }
    if (kind === 'too-large') {
      tooLarge(this.#f);
      this.#finish(false);
      return;
    }
    if (
      this.#bodyStalled ||
      (kind === 'timeout' && this.#body !== null && !this.#replayable && !this.#f.req.complete)
    ) {
      // The upstream waited for a body the client did not send: the client's timeout, not the model's.
      this.#fail(
        'requestTimeout',
        this.#bodyStalled
          ? 'the request body stalled'
          : `the request body did not arrive within the route timeout (${this.#f.timeouts.requestMs} ms)`,
      );
      return;
    }
    this.#f.onUpstreamError(kind);
    // The endpoint failed this exchange (passive health): counted before anything else decides.
    if (kind !== 'aborted' && endpoint) endpoint.failed(Date.now(), () => this.#f.cluster.mayEject());
    this.#lastFailure = failureAnswer(err);
    if (this.#canRetry(kind)) {
      this.#retry();
      return;
    }
    this.#fail(this.#lastFailure.name, this.#lastFailure.detail);
  }

  #retryableStatus(status: number): boolean {
    const on = this.#f.retry.on;
    return (
      on.includes('5xx') ||
      (on.includes('gateway-error') && (status === 502 || status === 503 || status === 504)) ||
      (on.includes('retriable-status') && this.#f.retry.statuses.includes(status))
    );
  }

  /**
   * Whether a failed attempt is tried again: the policy must name the failure, the attempts and the retry budget must
   * allow it, and the request must be safe to send twice — its body replayable (or absent), and its method
   * idempotent unless the model never saw it (a connect failure) or the route declares retries of any method safe.
   */
  #canRetry(kind: FailureKind): boolean {
    const { retry } = this.#f;
    if (this.#attempt > retry.attempts || this.#clientGone) return false;
    const wanted =
      (kind === 'connect' && retry.on.includes('connect-failure')) ||
      (kind === 'reset' && retry.on.includes('reset')) ||
      (kind === 'timeout' && (retry.on.includes('gateway-error') || retry.on.includes('5xx'))) ||
      kind === 'status';
    if (!wanted) return false;
    const bodyOk = this.#body === null || this.#replayable;
    const methodOk = kind === 'connect' || IDEMPOTENT_METHODS.has(this.#f.method) || retry.nonIdempotent;
    if (!bodyOk || !methodOk) return false;
    return this.#f.cluster.retryBudget.allows(retry.budgetPercent);
  }

  #retry(): void {
    this.#f.onRetry();
    const budget = this.#f.cluster.retryBudget;
    if (!this.#countedRetry) {
      budget.retrying++;
      this.#countedRetry = true;
    }
    const delay = this.#f.retry.backoffMs * 2 ** (this.#attempt - 1) * (0.5 + Math.random() / 2);
    setTimeout(() => this.start(), delay);
  }

  #release(): void {
    const endpoint = this.#endpoint;
    if (endpoint) {
      endpoint.active--;
      this.#endpoint = undefined;
    }
    this.#controller = undefined;
  }

  /**
   * Whether a fallback may take over: one is left, and this cluster's retry budget allows more work on its behalf (a
   * fallback is a retry elsewhere: in an outage, fallbacks must not double the load any more than retries may).
   */
  #mayFallBack(): boolean {
    const f = this.#f;
    return f.fallback !== undefined && f.fallback.available() && f.cluster.retryBudget.allows(f.retry.budgetPercent);
  }

  /** Ends this exchange without an answer and lets the fallback continue the request. */
  #handOver(cause: FallbackCause): void {
    const fallback = this.#f.fallback!;
    this.#finish();
    fallback.run(cause);
  }

  #fail(name: ErrorName, detail: string): void {
    const f = this.#f;
    const cause: FallbackCause | undefined =
      name === 'upstreamConnectFailure'
        ? 'connect'
        : name === 'upstreamTimeout'
          ? 'timeout'
          : name === 'upstreamUnavailable'
            ? 'unavailable'
            : undefined;
    if (cause && !this.#clientGone && !f.res.headersSent && this.#mayFallBack()) {
      this.#handOver(cause);
      return;
    }
    // A streamed request body may be partly unread; close after answering (set before the head is written).
    if (this.#body !== null && !this.#replayable && !f.req.complete) closeAfterAnswer(f.res);
    setExtraHeaders(f);
    sendProblem(f.res, name, detail, { instance: f.req.url ?? '/', requestId: f.requestId });
    f.onProblem?.(name);
    f.onStatus(f.res.statusCode);
    this.#finish();
  }

  #finish(notify = true): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#tap?.abort();
    this.#tap = undefined;
    const budget = this.#f.cluster.retryBudget;
    budget.active--;
    if (this.#countedRetry) budget.retrying--;
    if (notify) this.#f.onDone();
  }
}

/**
 * The answer to a failed attempt, worded for whoever called: what went wrong and the error code, never the
 * upstream's address (socket errors name it; the gateway's own logs and metrics keep the details).
 */
export function failureAnswer(err: UpstreamError): { name: ErrorName; detail: string } {
  const code = err.code ? ` (${err.code})` : '';
  switch (err.kind) {
    case 'timeout':
      return { name: 'upstreamTimeout', detail: `the model server did not answer in time: ${err.message}` };
    case 'protocol':
      if (err.code?.startsWith('HPE_') || err.message.startsWith('invalid response'))
        return { name: 'upstreamBadResponse', detail: `the model server's response is not valid HTTP/1.1${code}` };
      if (err.message.startsWith('TLS') || err.code?.includes('CERT') || err.code?.startsWith('ERR_TLS'))
        return { name: 'upstreamBadResponse', detail: `the TLS handshake with the model server failed${code}` };
      return { name: 'upstreamBadResponse', detail: err.message };
    case 'connect':
      return { name: 'upstreamConnectFailure', detail: `could not connect to the model server${code}` };
    default:
      return {
        name: 'upstreamConnectFailure',
        detail: `the connection to the model server was lost before the response was complete${code}`,
      };
  }
}

/** Relays an upstream's trailer fields to the client (chunked HTTP/1.1 or HTTP/2; Node drops them otherwise). */
function relayTrailers(res: ServerResponse, trailers: readonly string[]): void {
  const out: Record<string, string> = {};
  for (let i = 0; i < trailers.length; i += 2) {
    const name = trailers[i]!.toLowerCase();
    if (TRAILERS_NOT_RELAYED.has(name) || name === '__proto__') continue;
    out[name] = out[name] === undefined ? trailers[i + 1]! : `${out[name]}, ${trailers[i + 1]!}`;
  }
  try {
    res.addTrailers(out);
  } catch {
    // A field Node refuses to write is left out rather than failing the response.
  }
}
