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
import type { Endpoint } from './endpoint.ts';
import { downstreamHeaderList, headerInList, headerObject, setHeaderInList, setHeadersFromList } from './headers.ts';
import { hasRequestBody } from './request-body.ts';
import { modifyHeaderObject } from './route-filters.ts';
import type { FailureKind, UpstreamController, UpstreamError, UpstreamHandler } from './upstream-client.ts';
import type { RuntimeCluster } from './upstream-registry.ts';

export type { FailureKind } from './upstream-client.ts';

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
  readonly onUpstreamError: (kind: FailureKind) => void;
  readonly onRetry: () => void;
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

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

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
  f.req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    chunks.push(chunk);
  });
  f.req.once('end', () => {
    if (received !== length) {
      finishWithProblem(f, 'malformedRequest', `request body has ${received} bytes, Content-Length says ${length}`);
      return;
    }
    new Exchange(f, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received), true).start();
  });
  f.req.once('error', () => {
    f.onDone();
  });
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
  f.res.shouldKeepAlive = false;
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
  if (!alreadyStarted) f.onStatus(f.res.statusCode);
  f.onDone();
}

/** One request's journey through one or more upstream attempts. */
class Exchange implements UpstreamHandler {
  readonly #f: ForwardRequest;
  readonly #body: Buffer | IncomingMessage | AsyncGenerator<Buffer> | null;
  readonly #replayable: boolean;
  readonly #deadline: number;
  readonly #tried = new Set<Endpoint>();
  #attempt = 0;
  #endpoint: Endpoint | undefined;
  #controller: UpstreamController | undefined;
  #retryingStatus = false;
  /** Bytes of the response body still to come when the upstream sent a content-length; -1 when streamed. */
  #bodyLeft = -1;
  #clientGone = false;
  #finished = false;
  #countedRetry = false;
  #tap: ResponseTap | undefined;

  constructor(f: ForwardRequest, body: Buffer | IncomingMessage | AsyncGenerator<Buffer> | null, replayable: boolean) {
    this.#f = f;
    this.#body = body;
    this.#replayable = replayable;
    this.#deadline = f.timeouts.requestMs > 0 ? Date.now() + f.timeouts.requestMs : Number.POSITIVE_INFINITY;
    f.res.once('close', () => {
      if (!f.res.writableFinished) {
        this.#clientGone = true;
        this.#controller?.abort(new Error('client closed the connection'));
      }
    });
    f.cluster.retryBudget.active++;
  }

  start(): void {
    const now = Date.now();
    const endpoint = this.#f.cluster.balancer.pick(now, this.#tried);
    if (!endpoint) {
      const detail =
        this.#f.cluster.endpoints.length === 0
          ? `no endpoints are resolved for ${this.#f.cluster.config.name}`
          : `no healthy endpoint for ${this.#f.cluster.config.name}`;
      this.#fail('upstreamUnavailable', this.#attempt === 0 ? detail : `${detail} after ${this.#attempt} attempt(s)`);
      return;
    }
    const remaining = this.#deadline - now;
    if (remaining <= 0) {
      this.#fail('upstreamTimeout', `no response within ${this.#f.timeouts.requestMs} ms`);
      return;
    }
    const perTry = this.#f.timeouts.backendRequestMs > 0 ? this.#f.timeouts.backendRequestMs : Number.POSITIVE_INFINITY;
    const headersTimeout = Math.min(perTry, remaining);
    this.#attempt++;
    this.#endpoint = endpoint;
    this.#tried.add(endpoint);
    endpoint.active++;
    this.#retryingStatus = false;
    endpoint.pool.dispatch(
      {
        path: this.#f.path,
        method: this.#f.method,
        headers: this.#f.headers,
        body: this.#body,
        headersTimeout: Number.isFinite(headersTimeout) ? headersTimeout : 0,
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
    const res = this.#f.res;
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
      res.writeHead(statusCode, list);
      length = headerInList(list, 'content-length');
    } else {
      setExtraHeaders(this.#f);
      const out = headerObject(downstreamHeaderList(rawHeaders, this.#f.responseHeaders));
      out['x-request-id'] = this.#f.requestId;
      Object.assign(out, this.#f.responseHeaders);
      if (this.#f.responseModifiers) for (const m of this.#f.responseModifiers) modifyHeaderObject(out, m);
      const tap = this.#f.tap?.(statusCode, out);
      if (tap?.rewrites) delete out['content-length'];
      this.#tap = tap;
      res.writeHead(statusCode, out);
      length = tap?.rewrites ? undefined : out['content-length'];
    }
    this.#bodyLeft = typeof length === 'string' ? Number(length) : -1;
    // A streamed response (no length: SSE, chunked) must show its start even before its first event. The flush waits
    // for the end of this parser run, so when the first event came in the same read it leaves in the same write as
    // the headers; a response with a length keeps its headers until the body (one syscall instead of two).
    if (this.#bodyLeft < 0) {
      queueMicrotask(() => {
        if (!res.headersSent && !res.destroyed) res.flushHeaders();
      });
    }
    this.#f.onStatus(statusCode);
  }

  onResponseData(controller: UpstreamController, data: Buffer): void {
    let chunk = data;
    if (this.#tap) {
      chunk = this.#tap.data(data);
      if (chunk.length === 0) return;
    }
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

  onResponseEnd(): void {
    this.#release();
    const trailing = this.#endTap();
    if (!this.#f.res.writableEnded) this.#f.res.end(trailing);
    this.#finish();
  }

  #endTap(): Buffer | undefined {
    const tap = this.#tap;
    this.#tap = undefined;
    return tap?.end();
  }

  onResponseError(_controller: UpstreamController, err: UpstreamError): void {
    this.#release();
    if (this.#retryingStatus) {
      this.#retry();
      return;
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
    this.#f.onUpstreamError(kind);
    if (kind !== 'aborted') this.#endpoint?.failed(Date.now(), () => this.#f.cluster.mayEject());
    if (this.#canRetry(kind)) {
      this.#retry();
      return;
    }
    if (kind === 'timeout') this.#fail('upstreamTimeout', `the model server did not answer in time (${err.message})`);
    else if (kind === 'protocol') this.#fail('upstreamBadResponse', err.message);
    else this.#fail('upstreamConnectFailure', `${this.#endpoint?.origin ?? 'upstream'}: ${err.message}`);
  }

  #retryableStatus(status: number): boolean {
    const on = this.#f.retry.on;
    return (
      on.includes('5xx') ||
      (on.includes('gateway-error') && (status === 502 || status === 503 || status === 504)) ||
      (on.includes('retriable-status') && this.#f.retry.statuses.includes(status))
    );
  }

  #canRetry(kind: FailureKind): boolean {
    const { retry } = this.#f;
    if (this.#attempt > retry.attempts || this.#clientGone) return false;
    const wanted =
      (kind === 'connect' && retry.on.includes('connect-failure')) ||
      (kind === 'reset' && retry.on.includes('reset')) ||
      (kind === 'timeout' && (retry.on.includes('gateway-error') || retry.on.includes('5xx'))) ||
      kind === 'status';
    if (!wanted) return false;
    // A request that never reached the model (connect failure) is always safe to resend if its body can be.
    const bodyOk = this.#body === null || this.#replayable;
    const methodOk = kind === 'connect' || SAFE_METHODS.has(this.#f.method) || retry.nonIdempotent;
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

  #fail(name: ErrorName, detail: string): void {
    const f = this.#f;
    // A streamed request body may be partly unread; close after answering (set before the head is written).
    if (this.#body !== null && !this.#replayable) f.res.shouldKeepAlive = false;
    setExtraHeaders(f);
    sendProblem(f.res, name, detail, { instance: f.req.url ?? '/', requestId: f.requestId });
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
