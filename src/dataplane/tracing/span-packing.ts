/**
 * Ended spans as flat lists of primitives, the form they cross to the export thread in: a structured clone of numbers
 * and strings is a copy, where cloning the SDK's span objects (or encoding OTLP on the event loop) is work per field.
 * `pack` runs on the data plane's thread, `unpack` in the export worker, which hands the result to the OpenTelemetry
 * SDK's batch processor and OTLP exporter as the SDK's own spans would be.
 *
 * Layout of one span: name, kind, traceId, spanId, traceFlags, traceState ('' for none), parent spanId ('' for none),
 * parent is remote (0/1), start [s, ns], end [s, ns], status code, status message, dropped attributes, events and
 * links, attribute count, then key/value pairs, then events (count; each name, [s, ns], attribute count, pairs), then
 * links (count; each traceId, spanId, traceFlags, attribute count, pairs).
 */
import type { Attributes, AttributeValue, HrTime, Link, SpanContext } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

/** The tracer's name: the packed form leaves the scope out, the worker puts it back. */
export const INSTRUMENTATION_SCOPE = 'modelgate';

/** One cell of a packed list: what a span's fields are made of. */
export type Packed = string | number | boolean | AttributeValue;

function packAttributes(out: Packed[], attributes: Attributes): void {
  const at = out.length;
  out.push(0);
  let count = 0;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    out.push(key, value);
    count++;
  }
  out[at] = count;
}

/** Appends an ended span to `out`. */
export function pack(out: Packed[], span: ReadableSpan): void {
  const context = span.spanContext();
  const parent = span.parentSpanContext;
  out.push(
    span.name,
    span.kind,
    context.traceId,
    context.spanId,
    context.traceFlags,
    context.traceState?.serialize() ?? '',
    parent?.spanId ?? '',
    parent?.isRemote ? 1 : 0,
    span.startTime[0],
    span.startTime[1],
    span.endTime[0],
    span.endTime[1],
    span.status.code,
    span.status.message ?? '',
    span.droppedAttributesCount,
    span.droppedEventsCount,
    span.droppedLinksCount,
  );
  packAttributes(out, span.attributes);
  out.push(span.events.length);
  for (const event of span.events) {
    out.push(event.name, event.time[0], event.time[1]);
    packAttributes(out, event.attributes ?? {});
  }
  out.push(span.links.length);
  for (const link of span.links) {
    out.push(link.context.traceId, link.context.spanId, link.context.traceFlags);
    packAttributes(out, link.attributes ?? {});
  }
}

/** What every unpacked span shares (one object each, so the OTLP encoder groups them as one resource and scope). */
export interface UnpackTarget {
  readonly resource: Resource;
  readonly instrumentationScope: { readonly name: string };
}

/** The spans of a packed list, as the SDK's exporters read them. */
export function unpack(cells: readonly Packed[], target: UnpackTarget): ReadableSpan[] {
  const spans: ReadableSpan[] = [];
  let i = 0;
  const next = () => cells[i++]!;
  const attributes = (): Attributes => {
    const out: Attributes = {};
    for (let n = next() as number; n > 0; n--) {
      const key = next() as string;
      out[key] = next() as AttributeValue;
    }
    return out;
  };
  const time = (): HrTime => [next() as number, next() as number];
  while (i < cells.length) {
    const name = next() as string;
    const kind = next() as number;
    const traceId = next() as string;
    const spanId = next() as string;
    const traceFlags = next() as number;
    const state = next() as string;
    const context: SpanContext = {
      traceId,
      spanId,
      traceFlags,
      ...(state ? { traceState: new TraceState(state) } : {}),
    };
    const parentSpanId = next() as string;
    const parentIsRemote = next() === 1;
    const startTime = time();
    const endTime = time();
    const code = next() as number;
    const message = next() as string;
    const droppedAttributesCount = next() as number;
    const droppedEventsCount = next() as number;
    const droppedLinksCount = next() as number;
    const spanAttributes = attributes();
    const events: TimedEvent[] = [];
    for (let n = next() as number; n > 0; n--) {
      const eventName = next() as string;
      events.push({ name: eventName, time: time(), attributes: attributes() });
    }
    const links: Link[] = [];
    for (let n = next() as number; n > 0; n--) {
      const linked = { traceId: next() as string, spanId: next() as string, traceFlags: next() as number };
      links.push({ context: linked, attributes: attributes() });
    }
    spans.push({
      name,
      kind,
      spanContext: () => context,
      ...(parentSpanId
        ? { parentSpanContext: { traceId, spanId: parentSpanId, traceFlags, isRemote: parentIsRemote } }
        : {}),
      startTime,
      endTime,
      duration: hrDifference(endTime, startTime),
      status: message ? { code, message } : { code },
      attributes: spanAttributes,
      links,
      events,
      ended: true,
      resource: target.resource,
      instrumentationScope: target.instrumentationScope,
      droppedAttributesCount,
      droppedEventsCount,
      droppedLinksCount,
    });
  }
  return spans;
}

function hrDifference(end: HrTime, start: HrTime): HrTime {
  let seconds = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) {
    seconds--;
    nanos += 1e9;
  }
  return [seconds, nanos];
}
