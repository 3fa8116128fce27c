/**
 * Spans cross to the export worker packed (src/dataplane/tracing/span-packing.ts). The reference is the SDK's own
 * encoders: a span the SDK recorded and the same span packed and unpacked must encode to the same OTLP bytes, protobuf
 * and JSON — every field the exporters read survives the trip.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type TraceFlags, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { type Packed, pack, unpack } from '../../src/dataplane/tracing/span-packing.ts';

const resource = resourceFromAttributes({ 'service.name': 'modelgate-test' });
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  resource,
  sampler: new AlwaysOnSampler(),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer('modelgate');

/** Spans with every kind of field the data plane (or a later change to it) may set. */
function recordSpans(): ReadableSpan[] {
  exporter.reset();
  const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1 as TraceFlags,
    isRemote: true,
    traceState: new TraceState('vendor=opaque,other=1'),
  });
  const server = tracer.startSpan('POST /models/m', { kind: SpanKind.SERVER }, remoteParent);
  server.setAttributes({
    'http.request.method': 'POST',
    'url.path': '/models/m/v2/models/m/infer',
    'server.port': 8080,
    'gen_ai.usage.output_tokens': 12.5,
    'gen_ai.response.streaming': true,
    'gen_ai.response.finish_reasons': ['stop', 'length'],
    'modelgate.numbers': [1, 2, 3],
    'modelgate.flags': [true, false],
    'modelgate.empty': '',
    'modelgate.unicode': 'modèle → ✓',
  });
  server.addEvent('first token', { 'gen_ai.token.index': 0 });
  server.addEvent('no attributes');
  const client = tracer.startSpan(
    'POST',
    {
      kind: SpanKind.CLIENT,
      links: [{ context: { traceId: 'f'.repeat(32), spanId: 'e'.repeat(16), traceFlags: 0 }, attributes: { a: 1 } }],
    },
    trace.setSpan(ROOT_CONTEXT, server),
  );
  client.setAttribute('http.request.resend_count', 1);
  client.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream reset' });
  client.end();
  const root = tracer.startSpan('GET', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
  root.setStatus({ code: SpanStatusCode.OK });
  root.end();
  server.setStatus({ code: SpanStatusCode.ERROR });
  server.end();
  return exporter.getFinishedSpans();
}

function roundTrip(spans: readonly ReadableSpan[]): ReadableSpan[] {
  const cells: Packed[] = [];
  for (const span of spans) pack(cells, span);
  // What crosses to the worker is a structured clone.
  return unpack(structuredClone(cells), { resource, instrumentationScope: spans[0]!.instrumentationScope });
}

describe('span packing', () => {
  it('encodes to the same OTLP protobuf bytes as the SDK’s own spans', () => {
    const spans = recordSpans();
    assert.equal(spans.length, 3);
    const expected = ProtobufTraceSerializer.serializeRequest(spans)!;
    const actual = ProtobufTraceSerializer.serializeRequest(roundTrip(spans))!;
    assert.ok(expected.length > 300);
    assert.deepEqual(Buffer.from(actual), Buffer.from(expected));
  });

  it('encodes to the same OTLP JSON as the SDK’s own spans', () => {
    const spans = recordSpans();
    const text = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString('utf8'));
    assert.deepEqual(
      text(JsonTraceSerializer.serializeRequest(roundTrip(spans))!),
      text(JsonTraceSerializer.serializeRequest(spans)!),
    );
  });

  it('keeps what the exporters do not encode but a processor may read', () => {
    const [client] = recordSpans();
    const [copy] = roundTrip([client!]);
    assert.deepEqual(copy!.duration, client!.duration);
    assert.equal(copy!.ended, true);
    assert.equal(copy!.parentSpanContext?.isRemote, false);
    assert.equal(copy!.spanContext().traceState?.serialize(), 'vendor=opaque,other=1');
  });
});
