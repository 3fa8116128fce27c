/**
 * OpenTelemetry tracing against a real OTLP/HTTP receiver on loopback: a request that is retried once produces one
 * server span (parented on the caller's traceparent) and two client spans under it, the first failed; the model sees
 * the second attempt's span as its parent; export headers come from a Secret that /config never shows; exports are
 * protobuf by default (decoded with OTLP's own .proto files) and JSON when asked. Unconfigured,
 * trace context passes through unchanged (access-log.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { type OtlpReceiver, type OtlpSpan, spanAttribute, startOtlpReceiver } from '../helpers/otlp.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

describe('tracing', () => {
  let receiver: OtlpReceiver;
  let upstream: TestUpstream;
  let gw: TestGateway;
  let attempts = 0;

  before(async () => {
    receiver = await startOtlpReceiver();
    const otlp = receiver.url;
    upstream = await startUpstream('m', (req, res) => {
      if (!req.url?.startsWith('/flaky')) return false;
      // The first attempt fails with 503 (retried: gateway-error), the second answers.
      res.writeHead(++attempts === 1 ? 503 : 200, { 'content-type': 'text/plain' });
      res.end('ok');
      return true;
    });
    gw = await startGateway({
      'gw.yaml': `apiVersion: modelgate.dev/v1alpha1
kind: ModelGateway
metadata: {name: gw}
spec:
  tracing: {otlpEndpoint: "${otlp}", serviceName: gateway-under-test, headersSecret: {name: otel}}
---
apiVersion: v1
kind: Secret
metadata: {name: otel}
stringData: {authorization: Bearer otel-export-token-123}
`,
      'm.yaml': modelApiYaml('m', 'openapi', [{ name: 'v1', url: upstream.origin }]),
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await receiver.close();
  });

  it('a retried request: one server span, two client spans under it, the model parented on the second', async () => {
    const callerTrace = '0af7651916cd43dd8448eb211c80319c';
    const callerSpan = 'b7ad6b7169203331';
    const res = await call(`${gw.url}/models/m/flaky`, {
      headers: { traceparent: `00-${callerTrace}-${callerSpan}-01`, tracestate: 'vendor=opaque,other=1' },
    });
    assert.equal(res.status, 200);
    await gw.gateway.dataPlane.tracing?.flush();
    await eventually(() => receiver.spans.filter((s) => s.traceId === callerTrace).length >= 3, 5000);
    const mine = receiver.spans.filter((s) => s.traceId === callerTrace);
    const server = mine.filter((s) => s.kind === 2);
    const clients = mine.filter((s) => s.kind === 3);
    assert.equal(server.length, 1);
    assert.equal(clients.length, 2);
    assert.equal(server[0]!.parentSpanId, callerSpan, 'the caller is the server span’s parent');
    for (const c of clients) assert.equal(c.parentSpanId, server[0]!.spanId);
    // The resend count is on retries only, as the semantic conventions say.
    const resends = (s: OtlpSpan) => Number(spanAttribute(s, 'http.request.resend_count') ?? 0);
    const [first, second] = clients.sort((a, b) => resends(a) - resends(b));
    assert.equal(spanAttribute(first!, 'http.request.resend_count'), undefined);
    assert.equal(spanAttribute(second!, 'http.request.resend_count'), 1);
    for (const c of clients) assert.equal(spanAttribute(c, 'modelgate.version'), 'v1');
    assert.equal(spanAttribute(first!, 'http.response.status_code'), 503);
    assert.equal(first!.status?.code, 2, 'the failed attempt is an error');
    assert.equal(spanAttribute(second!, 'http.response.status_code'), 200);
    assert.equal(spanAttribute(server[0]!, 'http.response.status_code'), 200);
    assert.equal(spanAttribute(server[0]!, 'modelgate.api'), 'ModelAPI/default/m');
    assert.equal(spanAttribute(server[0]!, 'modelgate.version'), 'v1');
    assert.equal(server[0]!.name, 'GET /models/m');
    const seen = upstream.seen.filter((r) => r.url.startsWith('/flaky')).map((r) => r.headers.traceparent);
    assert.deepEqual(seen, [`00-${callerTrace}-${first!.spanId}-01`, `00-${callerTrace}-${second!.spanId}-01`]);
    const states = upstream.seen.filter((r) => r.url.startsWith('/flaky')).map((r) => r.headers.tracestate);
    assert.deepEqual(states, ['vendor=opaque,other=1', 'vendor=opaque,other=1'], 'the caller’s tracestate goes on');
  });

  it('exports with the headers of the Secret, which /config does not show; protobuf by default', async () => {
    assert.ok(receiver.exports.some((h) => h.authorization === 'Bearer otel-export-token-123'));
    assert.ok(receiver.exports.every((h) => h['content-type'] === 'application/x-protobuf'));
    const config = await (await fetch(`${gw.adminUrl}/config`)).text();
    assert.doesNotMatch(config, /otel-export-token-123/);
  });

  it('a request without trace context starts a trace of its own and passes it on', async () => {
    upstream.seen.length = 0;
    await call(`${gw.url}/models/m/plain`);
    const traceparent = upstream.seen.find((r) => r.url === '/plain')?.headers.traceparent;
    assert.match(String(traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});

describe('tracing configured, not sampled', () => {
  it('records nothing and passes the trace on with a new span id and the sampled flag off', async () => {
    const receiver = await startOtlpReceiver();
    const otlp = receiver.url;
    const upstream = await startUpstream('m');
    const gw = await startGateway({
      'gw.yaml': `apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  tracing: {otlpEndpoint: "${otlp}", samplingRatio: 0}\n`,
      'm.yaml': modelApiYaml('m', 'openapi', [{ name: 'v1', url: upstream.origin }]),
    });
    try {
      const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
      await call(`${gw.url}/models/m/a`, { headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b7-00` } });
      await call(`${gw.url}/models/m/b`);
      // A caller that sampled is followed even at ratio 0.
      await call(`${gw.url}/models/m/c`, { headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` } });
      await gw.gateway.dataPlane.tracing?.flush();
      const header = (path: string) => String(upstream.seen.find((r) => r.url === path)?.headers.traceparent);
      const a = /^00-([0-9a-f]{32})-([0-9a-f]{16})-00$/.exec(header('/a'));
      assert.equal(a?.[1], callerTrace, 'the caller’s trace');
      assert.notEqual(a?.[2], '00f067aa0ba902b7', 'a new span id');
      const b = /^00-([0-9a-f]{32})-([0-9a-f]{16})-00$/.exec(header('/b'));
      assert.ok(b && b[1] !== callerTrace, 'a trace of its own, not sampled');
      assert.match(header('/c'), new RegExp(`^00-${callerTrace}-[0-9a-f]{16}-01$`));
      assert.equal(receiver.exports.length, 1, 'only the sampled request was exported');
    } finally {
      await gw.stop();
      await upstream.close();
      await receiver.close();
    }
  });
});

describe('tracing over OTLP/HTTP JSON', () => {
  it('exports JSON when protocol is http/json, with the same spans', async () => {
    const receiver = await startOtlpReceiver();
    const upstream = await startUpstream('m');
    const gw = await startGateway({
      'gw.yaml': `apiVersion: modelgate.dev/v1alpha1
kind: ModelGateway
metadata: {name: gw}
spec:
  tracing: {otlpEndpoint: "${receiver.url}", protocol: http/json}
`,
      'm.yaml': modelApiYaml('m', 'openapi', [{ name: 'v1', url: upstream.origin }]),
    });
    try {
      assert.equal((await call(`${gw.url}/models/m/x`)).status, 200);
      await gw.gateway.dataPlane.tracing?.flush();
      await eventually(() => receiver.spans.length >= 2, 5000);
      assert.ok(receiver.exports.every((h) => h['content-type'] === 'application/json'));
      assert.deepEqual(receiver.spans.map((s) => s.kind).sort(), [2, 3]);
    } finally {
      await gw.stop();
      await upstream.close();
      await receiver.close();
    }
  });
});
