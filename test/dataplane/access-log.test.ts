/**
 * The access log, through a real gateway on loopback: one JSON line per request with the documented fields for a
 * forwarded answer, a policy refusal (401) and an answer the gateway made because no endpoint could serve (503);
 * field selection, the status/duration filter and sampling; refusals counted under the API they were addressed to;
 * W3C trace context passed through to the model unchanged (tracing is not configured).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AccessLog, MAX_HELD_BYTES } from '../../src/dataplane/access-log.ts';
import { ACCESS_LOG_FIELDS } from '../../src/schema/model-gateway.ts';
import { call, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream, unusedPort } from '../helpers/upstream.ts';

type Line = Record<string, unknown>;

const gatewayYaml = (accessLog: string) => `apiVersion: modelgate.dev/v1alpha1
kind: ModelGateway
metadata: {name: gw}
spec:
  accessLog: ${accessLog}
  auth:
    providers:
      - name: keys
        apiKey: {secrets: [{name: api-keys}]}
---
apiVersion: v1
kind: Secret
metadata: {name: api-keys}
stringData: {alice: alice-key-0123456789}
`;

describe('access log', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  const lines: Line[] = [];
  const settle = () => new Promise((r) => setTimeout(r, 50));

  before(async () => {
    upstream = await startUpstream('m');
    const closed = await unusedPort();
    gw = await startGateway(
      {
        'gw.yaml': gatewayYaml('{}'),
        'open.yaml': modelApiYaml('open', 'openapi', [{ name: 'v1', url: upstream.origin }]),
        'keyed.yaml': modelApiYaml(
          'keyed',
          'openapi',
          [{ name: 'v1', url: upstream.origin }],
          '  auth: {providers: [keys]}\n',
        ),
        'down.yaml': modelApiYaml('down', 'openapi', [{ name: 'v1', url: `http://127.0.0.1:${closed}` }]),
      },
      { accessLog: { write: (line) => lines.push(JSON.parse(line)) } },
    );
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  const requestLine = async (path: string, headers: Record<string, string> = {}) => {
    lines.length = 0;
    const id = `rid-${Math.random().toString(36).slice(2)}`;
    const res = await call(`${gw.url}${path}`, { headers: { 'x-request-id': id, ...headers } });
    await settle();
    const mine = lines.filter((l) => l.requestId === id);
    assert.equal(mine.length, 1, `one line for ${path}: ${JSON.stringify(lines)}`);
    return { res, line: mine[0]! };
  };

  it('a forwarded answer: the documented fields, the query string never', async () => {
    const { res, line } = await requestLine('/models/open/hello?api_key=secret-in-query');
    assert.equal(res.status, 200);
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/models/open/hello');
    assert.equal(line.host, '127.0.0.1');
    assert.equal(line.client, '127.0.0.1');
    assert.equal(line.api, 'ModelAPI/default/open');
    assert.equal(line.version, 'v1');
    assert.equal(line.upstream, upstream.origin);
    assert.equal(line.status, 200);
    assert.equal(line.retries, 0);
    for (const field of ['bytesIn', 'bytesOut', 'durationMs', 'ttfbMs'])
      assert.ok(typeof line[field] === 'number' && (line[field] as number) > 0, `${field}: ${line[field]}`);
    assert.ok((line.ttfbMs as number) <= (line.durationMs as number));
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT/);
    assert.doesNotMatch(JSON.stringify(line), /secret-in-query/);
  });

  it('a 401: the policy that answered, the error, and the API it was addressed to', async () => {
    const { res, line } = await requestLine('/models/keyed/hello');
    assert.equal(res.status, 401);
    assert.equal(line.status, 401);
    assert.equal(line.policy, 'auth');
    assert.equal(line.error, 'unauthenticated');
    assert.equal(line.api, 'ModelAPI/default/keyed');
    assert.equal(line.upstream, undefined, 'never forwarded');
    const ok = await requestLine('/models/keyed/hello', { 'x-api-key': 'alice-key-0123456789' });
    assert.equal(ok.line.status, 200);
    assert.equal(ok.line.subject, 'alice');
  });

  it('a 503 when no endpoint can serve: the error and the endpoint tried', async () => {
    const { res, line } = await requestLine('/models/down/hello');
    assert.ok(res.status >= 502 && res.status <= 503, String(res.status));
    assert.equal(line.status, res.status);
    assert.equal(line.api, 'ModelAPI/default/down');
    assert.match(String(line.error), /upstream/i);
    assert.match(String(line.upstream), /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('counts a refusal under the API it was addressed to', async () => {
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /modelgate_requests_total\{namespace="default",api="keyed",version="",code="401"\} [1-9]/);
  });

  it('writes only the chosen fields, only what the filter lets through, and a sample of it', async () => {
    await gw.write('gw.yaml', gatewayYaml('{fields: [status, path], filter: {minStatus: 400}}'));
    lines.length = 0;
    await call(`${gw.url}/models/open/a`);
    await call(`${gw.url}/models/keyed/b`);
    await settle();
    assert.deepEqual(lines, [{ log: 'access', status: 401, path: '/models/keyed/b' }]);

    await gw.write('gw.yaml', gatewayYaml('{fields: [status], sampleRatio: 0}'));
    lines.length = 0;
    for (let i = 0; i < 5; i++) await call(`${gw.url}/models/open/a`);
    await call(`${gw.url}/models/down/a`);
    await settle();
    assert.equal(lines.length, 1, 'nothing sampled but the answer ≥ 500');
    assert.ok((lines[0]!.status as number) >= 500);

    await gw.write('gw.yaml', gatewayYaml('{enabled: false}'));
    lines.length = 0;
    await call(`${gw.url}/models/open/a`);
    await settle();
    assert.deepEqual(lines, []);
  });

  it('passes W3C trace context to the model unchanged', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    upstream.seen.length = 0;
    await call(`${gw.url}/models/open/traced`, { headers: { traceparent, tracestate: 'vendor=opaque' } });
    const seen = upstream.seen.find((r) => r.url.endsWith('/traced'));
    assert.equal(seen?.headers.traceparent, traceparent);
    assert.equal(seen?.headers.tracestate, 'vendor=opaque');
  });
});

describe('access log lines', () => {
  it('are the JSON an object of the same fields would stringify to, whatever the strings hold', () => {
    const written: string[] = [];
    const log = new AccessLog({ write: (line: string) => written.push(line) } as never);
    const nasty = 'q"uote \\ back\nline\u0000nul\u2028sep é ✓ \ud800';
    const record = log.begin(0, `id-${nasty}`, '::1', 'POST', `/p/${nasty}`, null);
    Object.assign(record, { api: nasty, version: 'v1', upstream: 'http://127.0.0.1:1', retries: 2, tokens: 17 });
    const settings = { fields: [...ACCESS_LOG_FIELDS], sampleRatio: 1 } as const;
    log.write(settings as never, record, {
      status: 200,
      durationMs: 1.23456,
      bytesIn: 10,
      bytesOut: undefined,
      cache: 'hit',
    });
    assert.equal(written.length, 1);
    const parsed = JSON.parse(written[0]!) as Record<string, unknown>;
    assert.equal(written[0], `${JSON.stringify(parsed)}\n`);
    assert.equal(parsed.log, 'access');
    assert.equal(parsed.api, nasty);
    assert.equal(parsed.path, `/p/${nasty}`);
    assert.equal(parsed.durationMs, 1.235);
    assert.equal(parsed.retries, 2);
    assert.equal(parsed.tokens, 17);
    assert.equal('bytesOut' in parsed, false, 'an unknown value is left out');
    assert.equal('host' in parsed, false, 'an empty string is left out');
  });

  it('carry the time they were written, to the millisecond', () => {
    const written: string[] = [];
    const log = new AccessLog({ write: (line: string) => written.push(line) } as never);
    const settings = { fields: ['time'], sampleRatio: 1 } as const;
    const settled = { status: 200, durationMs: 1, bytesIn: 0, bytesOut: 0, cache: '' };
    const times: number[] = [];
    // Across several milliseconds: the time made once per millisecond is that millisecond's, not an earlier one's.
    const until = Date.now() + 5;
    while (Date.now() <= until) {
      const before = Date.now();
      log.write(settings as never, log.begin(0, 'id', '::1', 'GET', '/', null), settled);
      const after = Date.now();
      const time = (JSON.parse(written.at(-1)!) as { time: string }).time;
      assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const ms = Date.parse(time);
      assert.ok(ms >= before && ms <= after, `${time} is between ${before} and ${after}`);
      times.push(ms);
    }
    assert.ok(new Set(times).size > 1, 'several milliseconds were seen');
  });
});

/** Waits until `done()` holds, checking as the event loop turns (bounded by the test's timeout, not timed). */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 10));
}

describe('access log destination', () => {
  const settings = { fields: ['requestId', 'path'], sampleRatio: 1 } as never;
  const settled = { status: 200, durationMs: 1, bytesIn: 0, bytesOut: 0, cache: '' };
  const writeLines = (log: AccessLog, count: number, path: string) => {
    for (let i = 0; i < count; i++) log.write(settings, log.begin(0, `r${i}`, '::1', 'GET', path, null), settled);
  };

  it('writes every line whole and in order to its file descriptor, in batches', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-access-'));
    const file = join(dir, 'access.log');
    const fd = openSync(file, 'w');
    const warnings: string[] = [];
    const log = new AccessLog(undefined, (m) => warnings.push(m), { fd, maxHeldBytes: MAX_HELD_BYTES });
    // Multi-byte characters: the batches are cut by bytes, never inside a character or a line.
    writeLines(log, 5000, '/é/✓/😀');
    const lines = () => readFileSync(file, 'utf8').split('\n').slice(0, -1);
    await until(() => {
      log.flush();
      return lines().length >= 5000;
    });
    log.close();
    closeSync(fd);
    const written = lines().map((l) => JSON.parse(l) as { requestId: string; path: string });
    assert.equal(written.length, 5000);
    assert.deepEqual(
      written,
      written.map((_, i) => ({ log: 'access', requestId: `r${i}`, path: '/é/✓/😀' })),
    );
    assert.deepEqual(warnings, []);
    assert.equal(log.dropped, 0);
  });

  it('holds a bounded amount when its output is not read, dropping whole lines and warning once', {
    timeout: 30_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-access-'));
    const fifo = join(dir, 'stdout');
    execFileSync('mkfifo', [fifo]);
    // Read and write ends in one descriptor: writes succeed until the pipe's buffer is full, then wait for a reader,
    // as standard output does when what reads it stops.
    const fd = openSync(fifo, 'r+');
    const warnings: string[] = [];
    const maxHeldBytes = 256 * 1024;
    const log = new AccessLog(undefined, (m) => warnings.push(m), { fd, maxHeldBytes });
    const lineBytes = Buffer.byteLength('{"log":"access","requestId":"r0","path":"/held"}\n');
    const count = Math.ceil((4 * maxHeldBytes) / lineBytes);
    writeLines(log, count, '/held');
    assert.ok(log.dropped > 0, 'lines past the bound were dropped');
    assert.ok(log.dropped < count, 'the lines within the bound were kept');
    assert.equal(warnings.length, 1, 'one warning, however many lines were dropped');
    assert.match(warnings[0]!, /dropped/);
    // The reader comes back: every kept line arrives whole, in order, and nothing after the drops is torn.
    const reader = createReadStream(fifo);
    let text = '';
    reader.on('data', (chunk) => {
      text += chunk;
    });
    const kept = count - log.dropped;
    await until(() => {
      log.flush();
      return text.split('\n').length - 1 >= kept;
    });
    log.close();
    closeSync(fd); // the last writer gone, the reader sees the end
    await new Promise<void>((r) => reader.once('close', () => r()));
    const ids = text
      .split('\n')
      .slice(0, -1)
      .map((l) => Number((JSON.parse(l) as { requestId: string }).requestId.slice(1)));
    assert.equal(ids.length, kept);
    assert.ok(
      ids.every((id, i) => i === 0 || id > ids[i - 1]!),
      'in order',
    );
    assert.ok(kept * lineBytes <= maxHeldBytes + 2 * 64 * 1024 + lineBytes, 'no more than the bound and the pipe held');
  });
});
