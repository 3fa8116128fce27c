/**
 * OpenTelemetry tracing of the data plane: a server span per request (parented on the caller's W3C trace context)
 * and a client span per upstream attempt (a retry is a second client span), whose context is what the model receives
 * in `traceparent`, so the model's own spans join the trace under the attempt that reached it. Spans carry the HTTP
 * semantic-convention attributes and the ModelAPI and version; they are exported in batches over OTLP/HTTP by the
 * OpenTelemetry SDK. A request the sampler does not record still gets a new span id in the context it passes on
 * (the sampled flag off), as the W3C recommendation asks of a participant.
 *
 * Contexts are passed explicitly (no global context manager, no async hooks): the data plane knows which request a
 * callback belongs to, and async-hook propagation would cost every request, traced or not.
 */
import type { IncomingMessage } from 'node:http';
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
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { TracingSettings } from '../snapshot/types.ts';
import type { FailureKind } from './upstream/transport.ts';

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

  constructor(settings: TracingSettings) {
    this.settings = settings;
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.samplingRatio) }),
      spanProcessors: [
        new BatchSpanProcessor(
          new OTLPTraceExporter({ url: settings.otlpEndpoint, headers: { ...settings.headers } }),
          {
            scheduledDelayMillis: 1000,
          },
        ),
      ],
    });
    this.#tracer = this.#provider.getTracer('modelgate');
  }

  /** Starts the server span of a request. */
  begin(req: IncomingMessage, method: string, path: string): RequestTrace {
    const parent = propagator.extract(ROOT_CONTEXT, req.headers, headerGetter);
    const span = this.#tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': method,
          'url.path': path,
          'client.address': req.socket.remoteAddress ?? '',
          'network.protocol.version': req.httpVersion,
        },
      },
      parent,
    );
    return new RequestTrace(this.#tracer, span);
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

/** The spans of one request. */
export class RequestTrace {
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

  /**
   * A new upstream attempt: ends the previous one's span, starts this one's, and puts its context in the upstream
   * request's header list (replacing the caller's `traceparent`/`tracestate`).
   */
  attempt(origin: string, method: string, headers: string[]): void {
    this.#endAttempt();
    const url = new URL(origin);
    const span = this.#tracer.startSpan(
      method,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': method,
          'server.address': url.hostname,
          'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
          'url.full': origin,
          'http.request.resend_count': this.#attempts,
          'modelgate.version': this.version,
        },
      },
      this.#serverContext,
    );
    this.#attempts++;
    this.#attempt = span;
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, {
      set: (c, key, value) => {
        c[key] = value;
      },
    });
    for (let i = headers.length - 2; i >= 0; i -= 2)
      if (headers[i] === 'traceparent' || headers[i] === 'tracestate') headers.splice(i, 2);
    for (const [name, value] of Object.entries(carrier)) headers.push(name, value);
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
