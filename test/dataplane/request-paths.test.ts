/**
 * Request paths as a documented table (docs/paths.md): for each spelling, what the gateway matches and forwards, next
 * to what nginx does with the same bytes. The route under test is a prefix `/models/confined` whose backend is
 * `http://upstream/public`; nginx has `location /models/confined/ { proxy_pass http://upstream/public/; }`.
 *
 * The table is test/fixtures/nginx/request-paths.ts (its `nginx` column recorded from nginx 1.22.1, see SOURCES.md);
 * where nginx is installed the test checks that column against the live nginx too, so the table cannot drift from it.
 * `modelgate` states where the gateway answers otherwise, and why. docs/request-handling.md is rendered from it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { normalizePath, PathError } from '../../src/dataplane/request-path.ts';
import { PATH_TABLE as TABLE } from '../fixtures/nginx/request-paths.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { echoUpstream, firstAnswer, type RunningNginx, startNginx } from '../helpers/nginx.ts';
import { requireSystemPackages } from '../helpers/system-packages.ts';

requireSystemPackages('nginx-light');

describe('request paths: the normalisation table', () => {
  const table: [
    string,
    ReturnType<typeof normalizePath>,
    ReturnType<typeof normalizePath>,
    ReturnType<typeof normalizePath>,
  ][] = [
    // input, Decode (default), Keep, Reject
    ['/a/b', '/a/b', '/a/b', '/a/b'],
    ['/a/./b/../c', '/a/c', '/a/c', '/a/c'],
    ['/a//b/', '/a/b/', '/a/b/', '/a/b/'],
    ['/a%2Fb', '/a/b', '/a%2Fb', new PathError('')],
    ['/a%2fb', '/a/b', '/a%2Fb', new PathError('')],
    ['/..%2Fx', new PathError(''), new PathError(''), new PathError('')],
    ['/a/..%2F..', new PathError(''), new PathError(''), new PathError('')],
    ['/a/b/..%2F..%2Fc', '/c', new PathError(''), new PathError('')],
    ['/a%5Cb', '/a%5Cb', '/a%5Cb', new PathError('')],
    ['/a/..%5C', new PathError(''), new PathError(''), new PathError('')],
    ['/%7euser/%7Ex', '/~user/~x', '/~user/~x', '/~user/~x'],
    ['/a%3fb%3F', '/a%3Fb%3F', '/a%3Fb%3F', '/a%3Fb%3F'],
    ['/..', new PathError(''), new PathError(''), new PathError('')],
    ['/a/..', '/', '/', '/'],
    ['/.;x/a', new PathError(''), new PathError(''), new PathError('')],
    ['/a;..', '/a;..', '/a;..', '/a;..'],
    ['/a\u00e4', new PathError(''), new PathError(''), new PathError('')],
    ['/a%00', new PathError(''), new PathError(''), new PathError('')],
  ];
  for (const [input, decode, keep, reject] of table) {
    it(`${input}`, () => {
      const modes = [
        ['Decode', decode],
        ['Keep', keep],
        ['Reject', reject],
      ] as const;
      for (const [mode, want] of modes) {
        const got = normalizePath(input, { escapedSlashes: mode, mergeSlashes: true });
        if (want instanceof PathError) assert.ok(got instanceof PathError, `${mode}: ${String(got)} should be refused`);
        else assert.equal(got, want, mode);
      }
    });
  }

  it('keeps `//` when mergeSlashes is off, and a path without work unchanged (the same string)', () => {
    assert.equal(normalizePath('/a//b', { escapedSlashes: 'Decode', mergeSlashes: false }), '/a//b');
    const clean = '/models/iris/v2/infer';
    assert.equal(normalizePath(clean), clean);
  });
});

describe('request paths: the gateway next to nginx', () => {
  let upstream: Awaited<ReturnType<typeof echoUpstream>>;
  let gw: TestGateway;
  let nginx: RunningNginx;
  before(async () => {
    upstream = await echoUpstream();
    gw = await startGateway({
      'confined.yaml': `apiVersion: modelgate.dev/v1alpha1
kind: ModelAPI
metadata: {name: confined}
spec:
  protocol: openapi
  maxRequestBodyBytes: 100
  versions:
    - name: v1
      backend: {url: "http://127.0.0.1:${upstream.port}/public"}
`,
    });
    nginx = await startNginx(upstream.port);
  });
  after(async () => {
    await gw.stop();
    await nginx.stop();
    await upstream.close();
  });

  for (const c of TABLE) {
    it(`${c.path} → ${c.modelgate ? `${c.modelgate.status} (nginx ${c.nginx.status}: ${c.modelgate.why})` : c.nginx.status}`, async (t) => {
      const request = `GET ${c.path} HTTP/1.1\r\nHost: models.test\r\n\r\n`;
      const want = c.modelgate
        ? { status: c.modelgate.status, ...(c.modelgate.path ? { path: c.modelgate.path } : {}) }
        : c.nginx;
      assert.deepEqual(await firstAnswer(Number(new URL(gw.url).port), request), want, 'modelgate');
      assert.deepEqual(await firstAnswer(nginx.port, request), c.nginx, 'nginx (the recorded column)');
    });
  }
});
