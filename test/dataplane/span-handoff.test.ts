/**
 * The hand-off of ended spans to the export worker (src/dataplane/tracing/span-handoff.ts), through the real worker
 * and the SDK's OTLP exporter to an OTLP/HTTP receiver on loopback: flush and shutdown deliver what was ended, the
 * queue towards the worker is bounded (spans past it dropped, counted and said).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { AlwaysOnSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { SpanHandOff } from '../../src/dataplane/tracing/span-handoff.ts';
import type { TracingSettings } from '../../src/snapshot/types.ts';
import { type OtlpReceiver, spanAttribute, startOtlpReceiver } from '../helpers/otlp.ts';

describe('span hand-off to the export worker', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(async () => {
    await receiver.close();
  });

  const settings = (): TracingSettings => ({
    otlpEndpoint: receiver.url,
    samplingRatio: 1,
    serviceName: 'handoff-test',
    protocol: 'http/protobuf',
    headers: { 'x-export-token': 'secret-token' },
  });

  function tracerWith(handOff: SpanHandOff) {
    return new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [handOff] }).getTracer('t');
  }

  it('flush delivers every ended span, with the export headers', async () => {
    const handOff = new SpanHandOff(settings(), () => {});
    const tracer = tracerWith(handOff);
    for (let i = 0; i < 150; i++) {
      const span = tracer.startSpan(`flush-${i}`, { kind: SpanKind.SERVER }, ROOT_CONTEXT);
      span.setAttribute('n', i);
      span.end();
    }
    await handOff.forceFlush();
    const mine = receiver.spans.filter((s) => s.name.startsWith('flush-'));
    assert.equal(mine.length, 150);
    assert.deepEqual(
      mine.map((s) => spanAttribute(s, 'n')).sort((a, b) => Number(a) - Number(b)),
      Array.from({ length: 150 }, (_, i) => i),
    );
    assert.ok(receiver.exports.some((h) => h['x-export-token'] === 'secret-token'));
    await handOff.shutdown();
  });

  it('shutdown exports what it still holds, then takes no more', async () => {
    const handOff = new SpanHandOff(settings(), () => {});
    const tracer = tracerWith(handOff);
    tracer.startSpan('held', {}, ROOT_CONTEXT).end();
    await handOff.shutdown();
    assert.equal(receiver.spans.filter((s) => s.name === 'held').length, 1);
    tracer.startSpan('after-shutdown', {}, ROOT_CONTEXT).end();
    await handOff.forceFlush();
    assert.equal(receiver.spans.filter((s) => s.name === 'after-shutdown').length, 0);
  });

  it('drops spans past its queue, says so once, and sends the rest', async () => {
    const warnings: string[] = [];
    const handOff = new SpanHandOff(settings(), (m) => warnings.push(m), 3);
    const tracer = tracerWith(handOff);
    // Ended in one turn of the event loop: the worker cannot have taken any of them yet.
    for (let i = 0; i < 10; i++) tracer.startSpan(`bounded-${i}`, {}, ROOT_CONTEXT).end();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /dropping spans/);
    await handOff.forceFlush();
    assert.deepEqual(
      receiver.spans
        .filter((s) => s.name.startsWith('bounded-'))
        .map((s) => s.name)
        .sort(),
      ['bounded-0', 'bounded-1', 'bounded-2'],
    );
    assert.ok(warnings.some((m) => /7 spans were dropped/.test(m)));
    await handOff.shutdown();
  });
});
