/**
 * The span export worker (started by span-handoff.ts): unpacks the spans the data plane posts and gives them to the
 * OpenTelemetry SDK's batch span processor, which exports them with the SDK's OTLP/HTTP exporter (protobuf, or JSON
 * when asked) — off the event loop that serves requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OTLPTraceExporter as OTLPJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ExportWorkerData, FromWorker, ToWorker } from './span-handoff.ts';
import { INSTRUMENTATION_SCOPE, unpack } from './span-packing.ts';

const data = workerData as ExportWorkerData;
const port = parentPort!;
// Protobuf unless asked otherwise: a third of JSON's bytes, and cheaper to encode.
const Exporter = data.protocol === 'http/json' ? OTLPJsonExporter : OTLPProtobufExporter;
const processor = new BatchSpanProcessor(new Exporter({ url: data.otlpEndpoint, headers: { ...data.headers } }), {
  scheduledDelayMillis: 1000,
});
const target = {
  resource: resourceFromAttributes({ 'service.name': data.serviceName }),
  instrumentationScope: { name: INSTRUMENTATION_SCOPE },
};

const answer = (message: FromWorker) => port.postMessage(message);

port.on('message', (message: ToWorker) => {
  if (message.kind === 'spans') {
    for (const span of unpack(message.cells, target)) processor.onEnd(span);
    answer({ kind: 'taken', count: message.count });
    return;
  }
  const done = message.kind === 'flush' ? processor.forceFlush() : processor.shutdown();
  done.then(
    () => answer({ kind: 'done', id: message.id }),
    (error: unknown) => answer({ kind: 'done', id: message.id, error: String(error) }),
  );
});
