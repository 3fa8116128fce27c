/**
 * An OTLP/HTTP trace receiver on 127.0.0.1 port 0: what the gateway exports, as a collector would get it — protobuf
 * (decoded with OTLP's own .proto definitions, test/fixtures/upstream/opentelemetry-proto, by protobufjs) or JSON.
 * Spans are kept in OTLP/JSON's shape (ids in hex) whichever encoding came.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

const PROTO_ROOT = new URL('../fixtures/upstream/opentelemetry-proto/', import.meta.url).pathname;
let exportRequest: protobuf.Type | undefined;

/** The ExportTraceServiceRequest type, loaded once. */
function exportRequestType(): protobuf.Type {
  if (!exportRequest) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => `${PROTO_ROOT}${target}`;
    root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', { keepCase: false });
    exportRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  }
  return exportRequest;
}

/** A protobuf export as the JSON exporter spells it: ids as hex, enums and 64-bit integers as numbers. */
function decodeProtobuf(body: Buffer): { resourceSpans?: { scopeSpans?: { spans: OtlpSpan[] }[] }[] } {
  const type = exportRequestType();
  const hex = (b: unknown) => (b instanceof Uint8Array ? Buffer.from(b).toString('hex') : undefined);
  // 64-bit integers as numbers, as the JSON exporter writes attribute values (timestamps lose their last digits:
  // nothing here reads them).
  const object = type.toObject(type.decode(body), { longs: Number, enums: Number, defaults: false, bytes: Array }) as {
    resourceSpans?: { scopeSpans?: { spans?: Record<string, unknown>[] }[] }[];
  };
  for (const rs of object.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const span of ss.spans ?? [])
        for (const key of ['traceId', 'spanId', 'parentSpanId'])
          if (span[key] !== undefined) {
            const id = hex(Uint8Array.from(span[key] as number[]));
            if (id) span[key] = id;
            else delete span[key];
          }
  return object as never;
}

/** One exported span, as OTLP/JSON spells it (ids in hex). */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number };
}

export interface OtlpReceiver {
  /** The traces endpoint to configure (`…/v1/traces`). */
  readonly url: string;
  readonly spans: OtlpSpan[];
  /** The headers of each export request. */
  readonly exports: IncomingHttpHeaders[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: OtlpSpan[] = [];
  const exports: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      exports.push(req.headers);
      const raw = Buffer.concat(chunks);
      const protobufEncoded = String(req.headers['content-type'] ?? '').includes('protobuf');
      const body = protobufEncoded ? decodeProtobuf(raw) : JSON.parse(raw.toString('utf8'));
      for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      // An empty ExportTraceServiceResponse in the request's encoding.
      res.writeHead(200, { 'content-type': protobufEncoded ? 'application/x-protobuf' : 'application/json' });
      res.end(protobufEncoded ? '' : '{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    spans,
    exports,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** A span attribute's value, whatever its OTLP type. */
export function spanAttribute(span: OtlpSpan, key: string): unknown {
  const v = span.attributes.find((a) => a.key === key)?.value;
  return v ? Object.values(v)[0] : undefined;
}
