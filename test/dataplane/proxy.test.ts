/** End-to-end forwarding through a real gateway to real upstreams on loopback. */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { call, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

describe('forwarding', () => {
  let a: TestUpstream;
  let b: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    a = await startUpstream('a');
    b = await startUpstream('b');
    gw = await startGateway({
      'v2.yaml': modelApiYaml('iris', 'open-inference-v2', [
        { name: 'v1', url: a.origin, weight: 100, modelName: 'iris-upstream' },
        { name: 'v2', url: `${b.origin}/base`, weight: 0 },
      ]),
      'rest.yaml': modelApiYaml('rest', 'openapi', [{ name: 'v1', url: a.origin }], '  maxRequestBodyBytes: 1000\n'),
      'v1.yaml': modelApiYaml('kv1', 'kserve-v1', [{ name: 'v1', url: a.origin, modelName: 'm1' }]),
    });
  });
  after(async () => {
    await gw.stop();
    await a.close();
    await b.close();
  });

  const cases: {
    title: string;
    path: string;
    method?: string;
    headers?: Record<string, string>;
    upstream: string;
    url: string;
    version?: string;
  }[] = [
    {
      title: 'V2 infer → upstream model name',
      path: '/models/iris/infer',
      method: 'POST',
      upstream: 'a',
      url: '/v2/models/iris-upstream/infer',
      version: 'v1',
    },
    {
      title: 'V2 metadata at the prefix itself',
      path: '/models/iris',
      upstream: 'a',
      url: '/v2/models/iris-upstream',
      version: 'v1',
    },
    {
      title: 'query string is kept',
      path: '/models/iris/ready?x=1&y=2',
      upstream: 'a',
      url: '/v2/models/iris-upstream/ready?x=1&y=2',
      version: 'v1',
    },
    {
      title: 'pin header selects a weight-0 version, URL base path prepended',
      path: '/models/iris/infer',
      method: 'POST',
      headers: { 'x-model-version': 'v2' },
      upstream: 'b',
      url: '/base/v2/models/iris/infer',
      version: 'v2',
    },
    {
      title: 'versioned path',
      path: '/models/iris/versions/v2/infer',
      method: 'POST',
      upstream: 'b',
      url: '/base/v2/models/iris/infer',
      version: 'v2',
    },
    {
      title: 'openapi protocol passes the rest through',
      path: '/models/rest/predict/x',
      method: 'POST',
      upstream: 'a',
      url: '/predict/x',
      version: 'v1',
    },
    { title: 'openapi prefix root', path: '/models/rest', upstream: 'a', url: '/', version: 'v1' },
    {
      title: 'kserve v1 predict verb',
      path: '/models/kv1:predict',
      method: 'POST',
      upstream: 'a',
      url: '/v1/models/m1:predict',
      version: 'v1',
    },
    { title: 'kserve v1 metadata', path: '/models/kv1', upstream: 'a', url: '/v1/models/m1', version: 'v1' },
    {
      title: 'dot segments are resolved before matching',
      path: '/models/rest/a/../b',
      upstream: 'a',
      url: '/b',
      version: 'v1',
    },
  ];
  for (const c of cases) {
    it(c.title, async () => {
      const res = await call(gw.url + c.path, {
        method: c.method ?? 'GET',
        headers: c.headers ?? {},
        ...(c.method === 'POST' ? { body: '{}' } : {}),
      });
      assert.equal(res.status, 200, res.text);
      const echo = res.json() as { name: string; url: string };
      assert.equal(echo.name, c.upstream);
      assert.equal(echo.url, c.url);
      assert.equal(res.headers['x-model-version'], c.version);
    });
  }

  it('escaping the prefix with encoded dot segments does not reach another path', async () => {
    const res = await call(`${gw.url}/models/rest/%2e%2e/%2e%2e/models/iris`);
    // resolved to /models/iris → the iris API, never forwarded as ../ to the REST upstream
    assert.equal((res.json() as { url: string }).url, '/v2/models/iris-upstream');
  });

  it('sets forwarding headers, keeps end-to-end ones, strips hop-by-hop both ways', async () => {
    // node:http sends the Connection header exactly as given (undici would rewrite it).
    const res = await rawGet(`${gw.url}/models/rest/h`, {
      'x-request-id': 'req-123',
      'x-forwarded-for': '203.0.113.9',
      'x-custom': 'kept',
      connection: 'keep-alive, x-secret-hop',
      'x-secret-hop': 'dropped',
      'proxy-authorization': 'Basic dropped',
    });
    const { headers } = res.json() as { headers: Record<string, string> };
    assert.equal(headers['x-request-id'], 'req-123');
    assert.equal(headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-forwarded-host'], `127.0.0.1:${gw.gateway.port}`);
    assert.equal(headers['x-custom'], 'kept');
    assert.equal(headers['x-secret-hop'], undefined);
    assert.equal(headers['proxy-authorization'], undefined);
    assert.equal(headers.host, `127.0.0.1:${a.port}`, 'URL backends get their own Host');
    assert.equal(res.headers['x-request-id'], 'req-123');
    assert.equal(res.headers['x-hop'], undefined, 'upstream Connection-listed header is stripped');
    assert.equal(res.headers['x-from'], 'a');
  });

  it('generates a request id when the client sends none', async () => {
    const res = await call(`${gw.url}/models/rest/id`);
    const id = res.headers['x-request-id'] as string;
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal((res.json() as { headers: Record<string, string> }).headers['x-request-id'], id);
  });

  it('an unknown pinned version is a 400 problem listing the versions', async () => {
    const res = await call(`${gw.url}/models/iris/infer`, { body: '{}', headers: { 'x-model-version': 'v9' } });
    assert.equal(res.status, 400);
    assert.equal(res.headers['content-type'], 'application/problem+json');
    const p = res.json() as { code: string; versions: string[] };
    assert.equal(p.code, 'MG-400-UNKNOWN-VERSION');
    assert.deepEqual(p.versions, ['v1', 'v2']);
  });

  it('no route is a 404 problem', async () => {
    const res = await call(`${gw.url}/nothing/here`);
    assert.equal(res.status, 404);
    const p = res.json() as { code: string; instance: string; status: number };
    assert.equal(p.code, 'MG-404-NO-ROUTE');
    assert.equal(p.status, 404);
    assert.equal(p.instance, '/nothing/here');
  });

  it('kserve-v1 verbs only answer POST', async () => {
    assert.equal((await call(`${gw.url}/models/kv1:predict`)).status, 404);
  });

  it('a body over the route limit is refused with 413 before the upstream sees it', async () => {
    const before = a.seen.length;
    const res = await call(`${gw.url}/models/rest/big`, { body: 'x'.repeat(2000) });
    assert.equal(res.status, 413);
    assert.equal((res.json() as { code: string; limit: number }).limit, 1000);
    assert.equal(res.headers.connection, 'close', 'the unread body is not left on a kept-alive connection');
    assert.equal(a.seen.length, before);
  });

  it('a chunked body over the limit is cut off with 413', async () => {
    async function* chunks() {
      for (let i = 0; i < 5; i++) yield Buffer.alloc(400, 120);
    }
    const res = await request(`${gw.url}/models/rest/big-chunked`, { method: 'POST', body: Readable.from(chunks()) });
    assert.equal(res.statusCode, 413);
    await res.body.dump();
  });

  it('relays response headers as the upstream sent them, minus hop-by-hop ones and those the gateway sets', async () => {
    const up = await startUpstream('headers', async (_req, res) => {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('x-request-id', 'upstream-id');
      res.setHeader('x-model-version', 'upstream-version');
      res.setHeader('constructor', 'a valid header name');
      res.setHeader('connection', 'x-hop');
      res.setHeader('x-hop', 'dropped');
      res.end('ok');
      return true;
    });
    const gw2 = await startGateway({ 'r.yaml': modelApiYaml('r', 'openapi', [{ name: 'v1', url: up.origin }]) });
    try {
      const res = await call(`${gw2.url}/models/r/x`, { headers: { 'x-request-id': 'mine' } });
      assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
      assert.equal(res.headers['x-request-id'], 'mine');
      assert.equal(res.headers['x-model-version'], 'v1');
      assert.equal(res.headers.constructor, 'a valid header name');
      assert.equal(res.headers['x-hop'], undefined);
      assert.equal(res.text, 'ok');
    } finally {
      await gw2.stop();
      await up.close();
    }
  });

  it('bodies stream up intact (64 KiB)', async () => {
    const big = 'y'.repeat(64 * 1024);
    const gw2 = await startGateway({ 'r.yaml': modelApiYaml('r', 'openapi', [{ name: 'v1', url: a.origin }]) });
    try {
      const res = await call(`${gw2.url}/models/r/upload`, { body: big });
      assert.equal((res.json() as { body: string }).body.length, big.length);
    } finally {
      await gw2.stop();
    }
  });
});

describe('weighted versions', () => {
  it('splits unpinned traffic by weight', async () => {
    const a = await startUpstream('a');
    const b = await startUpstream('b');
    const gw = await startGateway({
      'w.yaml': modelApiYaml('w', 'openapi', [
        { name: 'stable', url: a.origin, weight: 80 },
        { name: 'canary', url: b.origin, weight: 20 },
      ]),
    });
    try {
      const counts: Record<string, number> = { stable: 0, canary: 0 };
      for (let i = 0; i < 400; i++) {
        const res = await call(`${gw.url}/models/w/x`);
        counts[res.headers['x-model-version'] as string]!++;
      }
      // 80/20 of 400: the canary share is 80 ± a wide margin (p < 1e-6 of falling outside).
      assert.ok(counts.canary! > 40 && counts.canary! < 130, JSON.stringify(counts));
      assert.equal(counts.stable! + counts.canary!, 400);
    } finally {
      await gw.stop();
      await a.close();
      await b.close();
    }
  });
});

function rawGet(url: string, headers: Record<string, string>) {
  return new Promise<{ headers: Record<string, string | string[] | undefined>; json: () => unknown }>(
    (resolve, reject) => {
      const req = httpRequest(url, { headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ headers: res.headers, json: () => JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('malformed requests', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({});
  });
  after(async () => {
    await gw.stop();
  });

  async function raw(text: string): Promise<string> {
    const { connect } = await import('node:net');
    return new Promise((resolve, reject) => {
      const socket = connect(gw.gateway.port, '127.0.0.1', () => socket.end(text));
      let out = '';
      socket.on('data', (c) => {
        out += c.toString();
      });
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
    });
  }

  const cases: [string, string, RegExp, string][] = [
    ['a broken request line', 'GARBAGE\r\n\r\n', /^HTTP\/1\.1 400 /, 'MG-400-MALFORMED'],
    ['an invalid header', 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n', /^HTTP\/1\.1 400 /, 'MG-400-MALFORMED'],
    [
      'oversized headers',
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      /^HTTP\/1\.1 431 /,
      'MG-431-HEADERS-TOO-LARGE',
    ],
    [
      'an asterisk-form target',
      'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      /^HTTP\/1\.1 400 /,
      'MG-400-MALFORMED',
    ],
  ];
  for (const [title, request, status, code] of cases) {
    it(`${title} gets a problem+json answer`, async () => {
      const response = await raw(request);
      assert.match(response, status);
      assert.match(response, /content-type: application\/problem\+json/i);
      assert.match(response, new RegExp(`"code":"${code}"`));
    });
  }
});
