/**
 * The request path end to end where the round-1 review found it wrong: each test drives a real gateway with raw
 * sockets or fault-injecting upstreams, and each failed on the code before the fix it guards.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { call, modelApiYaml, serviceApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { type RawUpstream, rawUpstream } from '../helpers/raw-upstream.ts';
import { delay } from '../helpers/transport.ts';
import { startUpstream, type TestUpstream, unusedPort } from '../helpers/upstream.ts';

/** Sends raw bytes; resolves with everything read until the server closes or `idleMs` of silence. */
function rawExchange(port: number, bytes: string | Buffer, idleMs = 1500): Promise<{ text: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    let timer = setTimeout(() => socket.destroy(), idleMs);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => socket.destroy(), idleMs);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, ms: Date.now() - started });
    });
  });
}

const portOf = (gw: TestGateway) => Number(new URL(gw.url).port);
const status = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);

describe('upstream failures are answered, never cut or misattributed', () => {
  let raw: RawUpstream;
  let hang: RawUpstream;
  let reset: RawUpstream;
  let gw: TestGateway;
  before(async () => {
    raw = await rawUpstream((r, s) => {
      const framing: Record<string, string> = {
        '/bad-size': 'zz\r\nok\r\n0\r\n\r\n',
        '/overflow': 'fffffffffffffffff1\r\nok\r\n0\r\n\r\n',
        '/ext': '2;a=\x01b\r\nok\r\n0\r\n\r\n',
      };
      const tail = framing[r.path];
      if (tail !== undefined) s.write(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${tail}`);
      else if (r.path === '/trailers')
        s.write(
          'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nx-checksum: abc\r\nx-trailer-secret: from-A\r\n\r\n',
        );
      else s.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nplain');
    });
    hang = await rawUpstream(() => {});
    reset = await rawUpstream((_r, s) => s.destroy());
    const api = (name: string, url: string, extra = '') => modelApiYaml(name, 'openapi', [{ name: 'v1', url }], extra);
    gw = await startGateway({
      'raw.yaml': api('raw', raw.origin, '  retries: {attempts: 0}\n'),
      'hang.yaml': api(
        'hang',
        hang.origin,
        '  timeouts: {request: 300ms}\n  healthCheck: {active: {enabled: false}}\n',
      ),
      'reset.yaml': api('reset', reset.origin, '  healthCheck: {active: {enabled: false}}\n'),
    });
  });
  after(async () => {
    await gw.stop();
    await Promise.all([raw.close(), hang.close(), reset.close()]);
  });

  for (const path of ['/bad-size', '/overflow', '/ext']) {
    it(`broken chunk framing right after the head (${path}) is a 502 problem, not an empty reply`, async () => {
      const res = await call(`${gw.url}/models/raw${path}`);
      assert.equal(res.status, 502, res.text);
      assert.equal(res.headers['content-type'], 'application/problem+json');
      assert.equal((res.json() as { code: string }).code, 'MG-502-UPSTREAM-PROTOCOL');
    });
  }

  it('with the only endpoint silent, the answer is 504 (the timeout), not 503 "no healthy endpoint"', async () => {
    const res = await call(`${gw.url}/models/hang/x`);
    assert.equal(res.status, 504, res.text);
    assert.equal((res.json() as { code: string }).code, 'MG-504-UPSTREAM-TIMEOUT');
  });

  it('with the only endpoint resetting, the answer is 502 after the retries went back to it', async () => {
    const before = reset.requests.length;
    const res = await call(`${gw.url}/models/reset/x`);
    assert.equal(res.status, 502, res.text);
    assert.equal((res.json() as { code: string }).code, 'MG-502-UPSTREAM-CONNECT');
    assert.equal(reset.requests.length - before, 3, 'the request and its two default retries reached the endpoint');
  });

  it('relays trailers on a chunked answer, and the next answer on the connection carries none of them', async () => {
    const { text } = await rawExchange(
      portOf(gw),
      'GET /models/raw/trailers HTTP/1.1\r\nhost: a\r\nte: trailers\r\n\r\nGET /models/raw/plain HTTP/1.1\r\nhost: a\r\n\r\n',
      400,
    );
    const [first, second] = text.split(/(?=HTTP\/1\.1 )/);
    assert.match(first ?? '', /\r\n0\r\nx-checksum: abc\r\nx-trailer-secret: from-A\r\n\r\n$/);
    assert.doesNotMatch(second ?? '', /x-trailer-secret|x-checksum/i);
    assert.match(second ?? '', /plain$/);
  });
});

describe('passive ejection takes a failing endpoint out', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    up = await startUpstream('live');
    const dead = await unusedPort();
    gw = await startGateway({
      'two.yaml': serviceApiYaml(
        'two',
        'openapi',
        [dead, up.port],
        '  loadBalancer: {policy: RoundRobin}\n  retries: {attempts: 0}\n  healthCheck: {active: {enabled: false}, passive: {consecutiveFailures: 3, ejectionTime: 60s}}\n',
      ),
    });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  it('after 3 connect failures in a row the refusing endpoint gets no more requests', async () => {
    let failed = 0;
    for (let i = 0; i < 40; i++) if ((await call(`${gw.url}/models/two/x`)).status !== 200) failed++;
    assert.equal(failed, 3, 'three failures eject it; the other 37 requests go to the live endpoint');
  });
});

describe('client requests: uploads that stall, Host, CONNECT, HTTP/0.9, pipelining, lost answers', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  const order: string[] = [];
  before(async () => {
    up = await startUpstream('up', async (req, res, body) => {
      order.push(`${req.method} ${req.url}`);
      if (req.url?.endsWith('/slow')) await delay(150);
      res.end(`${req.method} ${body.length}`);
      return true;
    });
    const api = (name: string, extra: string) => modelApiYaml(name, 'openapi', [{ name: 'v1', url: up.origin }], extra);
    gw = await startGateway({
      'gateway.yaml':
        'apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  listener: {requestBodyTimeout: 1500ms}\n',
      'timed.yaml': api('timed', '  timeouts: {request: 300ms}\n'),
      'validated.yaml': api('validated', '  timeouts: {request: 300ms}\n  validation: {mode: enforce}\n'),
      'streamed.yaml': api('streamed', '  timeouts: {request: 300ms}\n  retries: {attempts: 0}\n'),
      'untimed.yaml': api('untimed', '  timeouts: {request: 0s}\n  retries: {attempts: 0}\n'),
      'small.yaml': api('small', '  maxRequestBodyBytes: 1000\n'),
    });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  for (const api of ['timed', 'validated', 'streamed']) {
    it(`an upload that stalls is cut by the route timeout, counted from its first byte (${api})`, async () => {
      const { text } = await rawExchange(
        portOf(gw),
        `POST /models/${api}/x HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n0123456789`,
        3000,
      );
      assert.equal(status(text), 408, text);
      assert.match(text, /MG-408-REQUEST-TIMEOUT/);
      // The route's deadline answered, not the listener's own (longer) body timeout.
      assert.match(text, /within the route timeout/);
    });
  }

  it('without a route timeout, the listener cuts a body that stays silent (requestBodyTimeout)', async () => {
    const { text } = await rawExchange(
      portOf(gw),
      'POST /models/untimed/x HTTP/1.1\r\nhost: a\r\ncontent-length: 1000\r\n\r\n0123456789',
      3000,
    );
    assert.equal(status(text), 408, text);
    assert.match(text, /the request body stalled/);
  });

  const bad: [string, string][] = [
    ['two Host headers', 'GET /models/timed/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['a Host with a path', 'GET /models/timed/x HTTP/1.1\r\nHost: a.test/x\r\n\r\n'],
    ['a Host with a space', 'GET /models/timed/x HTTP/1.1\r\nHost: a b\r\n\r\n'],
    ['CONNECT', 'CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n'],
    ['HTTP/0.9', 'GET /models/timed/x\r\n\r\n'],
  ];
  for (const [what, bytes] of bad) {
    it(`${what} is answered 400 problem+json at once`, async () => {
      const seen = up.seen.length;
      // At once: the reader gives up after a second of silence, far below any timeout of the gateway's.
      const { text } = await rawExchange(portOf(gw), bytes, 1000);
      assert.equal(status(text), 400, text);
      assert.match(text, /application\/problem\+json/);
      assert.equal(up.seen.length, seen, 'nothing reached the model');
    });
  }

  it('pipelined requests reach the upstream one after the other, in order', async () => {
    order.length = 0;
    const { text } = await rawExchange(
      portOf(gw),
      'POST /models/untimed/slow HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\n\r\nhiGET /models/untimed/fast HTTP/1.1\r\nhost: a\r\n\r\n',
      500,
    );
    assert.deepEqual(order, ['POST /slow', 'GET /fast']);
    const answers = text.match(/\r\n\r\n(POST|GET) \d+/g)?.map((m) => m.slice(4));
    assert.deepEqual(answers, ['POST 2', 'GET 0']);
  });

  it('the 413 for an over-limit chunked body reaches the client while it is still sending (3 of 3)', async () => {
    for (let run = 0; run < 3; run++) {
      const socket = net.connect(portOf(gw), '127.0.0.1');
      await once(socket, 'connect');
      let text = '';
      let answered: () => void = () => {};
      const whole = new Promise<void>((resolve) => {
        answered = resolve;
      });
      socket.on('data', (d) => {
        text += d.toString('latin1');
        if (text.endsWith('}')) answered();
      });
      socket.on('error', () => {});
      socket.write('POST /models/small/x HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n');
      const chunk = `4000\r\n${'x'.repeat(0x4000)}\r\n`;
      // Keep sending well past the limit while the answer comes back.
      for (let i = 0; i < 40 && !socket.destroyed; i++) {
        socket.write(chunk);
        await delay(2);
      }
      await Promise.race([whole, once(socket, 'close'), delay(3000)]);
      socket.destroy();
      assert.equal(status(text), 413, `run ${run + 1}: ${JSON.stringify(text.slice(0, 80))}`);
    }
  });
});
