/**
 * OpenTelemetry tracing of the data plane: a server span per request (parented on the caller's W3C trace context)
 * and a client span per upstream attempt (a retry is a second client span), whose context is what the model receives
 * in `traceparent`, so the model's own spans join the trace under the attempt that reached it. Spans carry the HTTP
 * semantic-convention attributes and the ModelAPI and version; they are exported in batches over OTLP/HTTP (protobuf,
 * or JSON when asked) by the OpenTelemetry SDK, in a worker thread (span-handoff.ts). A request the sampler does not
 * record still gets a new span id in the context it passes on (the sampled flag off), as the W3C recommendation asks
 * of a participant.
 *
 * Contexts are passed explicitly (no global context manager, no async hooks): the data plane knows which request a
 * callback belongs to, and async-hook propagation would cost every request, traced or not.
 *
 * The sampling decision is made here, before the SDK is involved (parent-based: a caller's sampled flag is followed;
 * a new trace is recorded with probability `samplingRatio`), and a request that is not recorded never reaches the
 * SDK: it only passes on its trace id with a new span id and the flag off. Creating a non-recording span, its context
 * and its attributes through the SDK cost a quarter of the gateway's throughput in the benchmark; this costs a random
 * id.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AlwaysOnSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { TracingSettings } from '../../snapshot/types.ts';
import type { FailureKind } from '../upstream/transport.ts';
import { SpanHandOff } from './span-handoff.ts';
import { INSTRUMENTATION_SCOPE } from './span-packing.ts';

const propagator = new W3CTraceContextPropagator();

const headerGetter: TextMapGetter<IncomingMessage['headers']> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** One exporting tracer, for one set of settings (a change of settings makes a new one). */
export class Tracing {
  readonly settings: TracingSettings;
  readonly #provider: BasicTracerProvider;
  readonly #tracer: Tracer;

  /** `warn` hears of dropped spans and a failing export worker. */
  constructor(settings: TracingSettings, warn: (message: string) => void = () => {}) {
    this.settings = settings;
    this.#provider = new BasicTracerProvider({
      // Sampled requests only reach the SDK (see above).
      sampler: new AlwaysOnSampler(),
      // Ended spans go to the export worker, where the SDK's batch processor and OTLP exporter (with the resource)
      // take them: span-handoff.ts says why.
      spanProcessors: [new SpanHandOff(settings, warn)],
    });
    this.#tracer = this.#provider.getTracer(INSTRUMENTATION_SCOPE);
  }

  /** Starts the trace of a request: recorded spans when sampled, else only its context passed on. */
  begin(req: IncomingMessage, method: string, path: string): RequestTrace {
    const incoming = req.headers.traceparent;
    const parent = typeof incoming === 'string' ? TRACEPARENT.exec(incoming) : null;
    const sampled = parent ? (Number.parseInt(parent[3]!, 16) & 1) === 1 : Math.random() < this.settings.samplingRatio;
    if (!sampled) return new PassedOnTrace(parent ? parent[1]! : randomHex(16), parent ? parent[3]! : '00');
    return this.#record(req, method, path, parent !== null);
  }

  #record(req: IncomingMessage, method: string, path: string, fromCaller: boolean): RecordedTrace {
    // Without a caller's context the span starts a trace of its own: nothing to extract.
    const parent = fromCaller ? propagator.extract(ROOT_CONTEXT, req.headers, headerGetter) : ROOT_CONTEXT;
    const span = this.#tracer.startSpan(method, SERVER_SPAN, parent);
    // Set after the start rather than passed to it: the SDK sanitizes start attributes twice more for its sampler,
    // which is always-on here (the decision was made above).
    span.setAttributes({
      'http.request.method': method,
      'url.path': path,
      'client.address': req.socket.remoteAddress ?? '',
      'network.protocol.version': req.httpVersion,
    });
    return new RecordedTrace(this.#tracer, span);
  }

  /** Exports what is still buffered, then stops. */
  async shutdown(): Promise<void> {
    await this.#provider.shutdown();
  }

  /** Exports what is buffered now (tests, shutdown). */
  async flush(): Promise<void> {
    await this.#provider.forceFlush();
  }
}

/** What the data plane tells a request's trace. */
export interface RequestTrace {
  /** Whether spans are recorded (else the trace is only passed on). */
  readonly recorded: boolean;
  /** The version that served the request, once picked. */
  version: string;
  /** The gateway's error name, when it answered with a problem. */
  error: string;
  route(api: string, route: string, method: string): void;
  /** More attributes of the server span (GenAI usage). */
  attributes(attributes: Readonly<Record<string, string | number | boolean>>): void;
  attempt(origin: string, method: string, headers: string[]): void;
  attemptStatus(status: number): void;
  attemptFailed(kind: FailureKind): void;
  end(status: number): void;
}

const SERVER_SPAN = { kind: SpanKind.SERVER } as const;
const CLIENT_SPAN = { kind: SpanKind.CLIENT } as const;

/** `version-traceid-parentid-flags`, the version-00 form the gateway understands. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * `bytes` (8 or 16) random bytes as lower-case hex, from Math.random like the OpenTelemetry SDK's own id generator:
 * ids must be unique, not secret, and this runs for every request.
 */
function randomHex(bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i += 4) out += ((Math.random() * 0x100000000) >>> 0).toString(16).padStart(8, '0');
  // An all-zero id is invalid (W3C): practically never drawn, but never sent either.
  return /^0+$/.test(out) ? randomHex(bytes) : out;
}

/** A request that is not recorded: the model gets the trace id with a new span id and the sampled flag off. */
class PassedOnTrace implements RequestTrace {
  readonly recorded = false;
  readonly #traceId: string;
  readonly #flags: string;
  version = '';
  error = '';

  constructor(traceId: string, flags: string) {
    this.#traceId = traceId;
    this.#flags = flags;
  }

  route(): void {}
  attributes(): void {}

  attempt(_origin: string, _method: string, headers: string[]): void {
    const traceparent = `00-${this.#traceId}-${randomHex(8)}-${this.#flags}`;
    for (let i = 0; i < headers.length; i += 2)
      if (headers[i] === 'traceparent') {
        headers[i + 1] = traceparent;
        return;
      }
    headers.push('traceparent', traceparent);
  }

  attemptStatus(): void {}
  attemptFailed(): void {}
  end(): void {}
}

/** The spans of one recorded request. */
class RecordedTrace implements RequestTrace {
  readonly recorded = true;
  readonly #tracer: Tracer;
  readonly server: Span;
  readonly #serverContext: Context;
  #attempt: Span | undefined;
  #attempts = 0;
  /** The version that served the request, once picked. */
  version = '';
  /** The gateway's error name, when it answered with a problem. */
  error = '';

  constructor(tracer: Tracer, server: Span) {
    this.#tracer = tracer;
    this.server = server;
    this.#serverContext = trace.setSpan(ROOT_CONTEXT, server);
  }

  /** The matched route: the span is named after it, as the semantic conventions ask. */
  route(api: string, route: string, method: string): void {
    this.server.updateName(`${method} ${route}`);
    this.server.setAttributes({ 'http.route': route, 'modelgate.api': api });
  }

  attributes(attributes: Readonly<Record<string, string | number | boolean>>): void {
    this.server.setAttributes(attributes);
  }

  /**
   * A new upstream attempt: ends the previous one's span, starts this one's, and puts its context in the upstream
   * request's header list (replacing the caller's `traceparent`/`tracestate`).
   */
  attempt(origin: string, method: string, headers: string[]): void {
    this.#endAttempt();
    const server = serverOf(origin);
    const span = this.#tracer.startSpan(method, CLIENT_SPAN, this.#serverContext);
    span.setAttributes({
      'http.request.method': method,
      'server.address': server.address,
      'server.port': server.port,
      'url.full': origin,
      'modelgate.version': this.version,
    });
    // Only on a retry, as the semantic conventions say (absent on the first attempt).
    if (this.#attempts > 0) span.setAttribute('http.request.resend_count', this.#attempts);
    this.#attempts++;
    this.#attempt = span;
    // The attempt's context in W3C form, written directly (what the propagator would write, without a context and
    // a carrier object per attempt); the caller's tracestate goes on with it.
    const { traceId, spanId, traceFlags, traceState } = span.spanContext();
    for (let i = headers.length - 2; i >= 0; i -= 2)
      if (headers[i] === 'traceparent' || headers[i] === 'tracestate') headers.splice(i, 2);
    headers.push('traceparent', `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`);
    const state = traceState?.serialize();
    if (state) headers.push('tracestate', state);
  }

  /** The attempt's answer arrived. */
  attemptStatus(status: number): void {
    const span = this.#attempt;
    if (!span) return;
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  }

  /** The attempt failed without an answer. */
  attemptFailed(kind: FailureKind): void {
    const span = this.#attempt;
    if (!span) return;
    span.setAttribute('error.type', kind);
    span.setStatus({ code: SpanStatusCode.ERROR, message: kind });
    this.#endAttempt();
  }

  /** The response closed: the last attempt and the server span end. */
  end(status: number): void {
    this.#endAttempt();
    const { server, version, error } = this;
    server.setAttribute('http.response.status_code', status);
    if (version) server.setAttribute('modelgate.version', version);
    if (status >= 500) server.setStatus({ code: SpanStatusCode.ERROR, ...(error ? { message: error } : {}) });
    if (error) server.setAttribute('error.type', error);
    server.end();
  }

  #endAttempt(): void {
    this.#attempt?.end();
    this.#attempt = undefined;
  }
}

const servers = new Map<string, { address: string; port: number }>();

/** Host and port of an endpoint origin, parsed once per origin. */
function serverOf(origin: string): { address: string; port: number } {
  let server = servers.get(origin);
  if (!server) {
    const url = new URL(origin);
    server = { address: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
    if (servers.size > 10_000) servers.clear();
    servers.set(origin, server);
  }
  return server;
}

/** Starts a request's trace; a recorded one's server span ends when the response closes. */
export function openTrace(tracing: Tracing, req: IncomingMessage, res: ServerResponse, url: string): RequestTrace {
  const q = url.indexOf('?');
  const trace = tracing.begin(req, req.method ?? 'GET', q < 0 ? url : url.slice(0, q));
  if (trace.recorded) res.once('close', () => trace.end(res.headersSent ? res.statusCode : 499));
  return trace;
}
