/**
 * The spec fetcher against real HTTP servers on loopback: ETag revalidation, size cap, timeout, last good kept,
 * only the task's own cluster endpoints contacted, refetch when endpoints change, Swagger 2.0 converted, tasks
 * cancelled when they leave the snapshot.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import { DocumentProcessor } from '../../src/runtime/document-processor.ts';
import type { DocsTask } from '../../src/snapshot/discovery.ts';
import type { Cluster } from '../../src/snapshot/types.ts';
import { SpecFetcher } from '../../src/sources/upstream-documents/spec-fetcher.ts';
import { eventually } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

const DOC = {
  openapi: '3.1.0',
  info: { title: 'm', version: '1' },
  paths: { '/predict': { post: { responses: {} } } },
};

function cluster(name: string, origins: string[], basePath = ''): Cluster {
  return {
    name,
    protocol: 'openapi',
    basePath,
    endpoints: origins.map((origin) => ({ origin, ready: true })),
    loadBalancer: 'RoundRobin',
    connectTimeoutMs: 1000,
    passiveHealthCheck: { consecutiveFailures: 5, ejectionTimeMs: 1000, maxEjectionPercent: 50 },
  };
}

const task = (key: string, path: string, refreshMs = 3_600_000, method: 'GET' | 'OPTIONS' = 'GET'): DocsTask => ({
  kind: 'openapi',
  key,
  method,
  cluster: 'c',
  path,
  refreshMs,
});

describe('spec fetcher', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers) await close();
  });
  const upstream = async (handler: Parameters<typeof startUpstream>[1]): Promise<TestUpstream> => {
    const u = await startUpstream('docs', handler);
    closers.push(() => u.close());
    return u;
  };
  const fetcher = (options: Partial<ConstructorParameters<typeof SpecFetcher>[0]> = {}) => {
    let changes = 0;
    // The document worker, as the gateway hands it to its fetcher.
    const processor = new DocumentProcessor();
    const f = new SpecFetcher({ onChange: () => changes++, processor, ...options });
    closers.push(
      () => f.close(),
      () => processor.close(),
    );
    return { f, changes: () => changes };
  };

  it('revalidates with If-None-Match and keeps the document on 304 without a recompile', async () => {
    const u = await upstream((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { etag: '"v1"' });
        res.end();
        return true;
      }
      res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"' });
      res.end(JSON.stringify(DOC));
      return true;
    });
    const { f, changes } = fetcher();
    f.update([task('t', '/openapi.json', 50)], { c: cluster('c', [u.origin]) });
    await eventually(() => u.seen.length >= 3);
    const result = f.discovered().get('t');
    assert.deepEqual(result?.last?.body, DOC);
    assert.equal(result?.last?.etag, '"v1"');
    assert.equal(result?.error, undefined);
    assert.equal(u.seen[0]!.headers['if-none-match'], undefined);
    assert.equal(u.seen[1]!.headers['if-none-match'], '"v1"');
    assert.equal(changes(), 1, 'a 304 is not a change');
  });

  it('refuses documents over the size cap and gives up on slow servers', async () => {
    const u = await upstream((req, res) => {
      if (req.url === '/slow') return false; // never answers: the helper's default handler is not reached
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...DOC, info: { title: 'x'.repeat(4096), version: '1' } }));
      return true;
    });
    const slow = await upstream(() => new Promise<boolean>(() => {}));
    const { f } = fetcher({ maxBytes: 1024, timeoutMs: 300 });
    f.update([task('big', '/openapi.json')], { c: cluster('c', [u.origin]) });
    await f.settle();
    assert.match(f.discovered().get('big')?.error ?? '', /larger than 1024 bytes/);
    const { f: f2 } = fetcher({ timeoutMs: 300 });
    f2.update([task('slow', '/openapi.json')], { c: cluster('c', [slow.origin]) });
    await f2.settle();
    assert.match(f2.discovered().get('slow')?.error ?? '', /timed out after 300 ms/);
  });

  it('keeps the last good document when a refresh fails, and records why', async () => {
    let healthy = true;
    const u = await upstream((_req, res) => {
      if (healthy) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(DOC));
      } else {
        res.writeHead(500);
        res.end('boom');
      }
      return true;
    });
    const { f } = fetcher({ retryMs: 20 });
    f.update([task('t', '/openapi.json', 60)], { c: cluster('c', [u.origin]) });
    await eventually(() => f.discovered().get('t')?.last !== undefined);
    healthy = false;
    await eventually(() => f.discovered().get('t')?.error !== undefined);
    const result = f.discovered().get('t')!;
    assert.deepEqual(result.last?.body, DOC);
    assert.match(result.error!, /HTTP 500/);
    healthy = true;
    await eventually(() => f.discovered().get('t')?.error === undefined);
  });

  it("contacts only the task's own cluster endpoints, and asks again at once when they change", async () => {
    const document = (title: string) => (_req: unknown, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...DOC, info: { title, version: '1' } }));
      return true;
    };
    const a = await upstream(document('a'));
    const b = await upstream(document('b'));
    const bystander = await upstream(document('bystander'));
    const { f } = fetcher();
    const tasks = [task('t', '/v1/models')];
    f.update(tasks, { c: cluster('c', [a.origin], '/base'), other: cluster('other', [bystander.origin]) });
    await eventually(() => a.seen.length === 1);
    assert.equal(a.seen[0]!.url, '/base/v1/models');
    f.update(tasks, { c: cluster('c', [b.origin], '/base'), other: cluster('other', [bystander.origin]) });
    await eventually(() => b.seen.length === 1); // the refresh interval is an hour: only the change explains it
    await eventually(() => f.discovered().get('t')?.last?.location === `${b.origin}/v1/models`);
    assert.equal(bystander.seen.length, 0);
  });

  it('converts a fetched Swagger 2.0 document (to 3.1, normalised) and remembers the original version', async () => {
    const swagger = {
      swagger: '2.0',
      info: { title: 's', version: '1' },
      paths: { '/x': { get: { responses: { 200: { description: 'ok', schema: { type: 'string' } } } } } },
    };
    const u = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(swagger));
      return true;
    });
    const { f } = fetcher();
    f.update([task('t', '/swagger.json')], { c: cluster('c', [u.origin]) });
    await f.settle();
    const last = f.discovered().get('t')?.last;
    assert.equal(last?.originalVersion, '2.0');
    assert.equal((last?.body as { openapi?: string } | undefined)?.openapi, '3.1.0');
    assert.equal(last?.normalized, true);
  });

  it("asks with OPTIONS when the resource says so (TorchServe's `OPTIONS /`)", async () => {
    const u = await upstream((req, res) => {
      res.writeHead(req.method === 'OPTIONS' ? 200 : 405, { 'content-type': 'application/json' });
      res.end(JSON.stringify(DOC));
      return true;
    });
    const { f } = fetcher();
    f.update([task('t', '/', 3_600_000, 'OPTIONS')], { c: cluster('c', [u.origin]) });
    await f.settle();
    assert.deepEqual(f.discovered().get('t')?.last?.body, DOC);
    assert.equal(u.seen[0]!.method, 'OPTIONS');
  });

  it("sends the version's own request headers (a token, Seldon's routing header) with the request", async () => {
    const u = await upstream((req, res) => {
      const ok = req.headers.authorization === 'Bearer t0k' && req.headers['seldon-model'] === 'iris';
      res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
      res.end(JSON.stringify(DOC));
      return true;
    });
    const { f } = fetcher();
    const withHeaders: Cluster = {
      ...cluster('c', [u.origin]),
      requestHeaders: [
        ['authorization', 'Bearer t0k'],
        ['seldon-model', 'iris'],
      ],
    };
    f.update([task('t', '/openapi.json')], { c: withHeaders });
    await f.settle();
    assert.deepEqual(f.discovered().get('t')?.last?.body, DOC);
    assert.equal(u.seen[0]!.headers['user-agent'], 'modelgate-spec-fetcher');
  });

  it('forgets tasks that leave the snapshot and stops asking', async () => {
    const u = await upstream(() => false);
    const { f, changes } = fetcher();
    f.update([task('t', '/openapi.json', 30)], { c: cluster('c', [u.origin]) });
    await eventually(() => f.discovered().has('t'));
    f.update([], {});
    await eventually(() => !f.discovered().has('t'));
    const seen = u.seen.length;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(u.seen.length, seen);
    assert.ok(changes() >= 2);
  });
});

describe('spec fetcher: hostile documents are processed off the event loop', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers) await close();
  });
  const serving = async (bodies: Record<string, string>) => {
    const u = await startUpstream('docs', (req, res) => {
      const body = bodies[req.url ?? ''];
      if (body === undefined) return false;
      res.writeHead(200, { 'content-type': req.url?.endsWith('.html') ? 'text/html' : 'application/json' });
      res.end(body);
      return true;
    });
    closers.push(() => u.close());
    return u;
  };
  const fetcher = () => {
    const processor = new DocumentProcessor();
    const f = new SpecFetcher({ onChange: () => {}, retryMs: 20, processor });
    closers.push(
      () => f.close(),
      () => processor.close(),
    );
    return f;
  };

  it('a 200 that is not a document (HTML, null, a list, no version) is a failed fetch: the last good copy stays', async () => {
    const bodies: Record<string, string> = { '/openapi.json': JSON.stringify(DOC) };
    const u = await serving(bodies);
    const f = fetcher();
    f.update([task('t', '/openapi.json', 40)], { c: cluster('c', [u.origin]) });
    await eventually(() => f.discovered().get('t')?.last !== undefined);
    for (const [body, reason] of [
      ['<html><body>Bad gateway</body></html>', /not an OpenAPI document but an HTML or XML page/],
      ['null', /not an OpenAPI document but null/],
      ['[]', /not an OpenAPI document but a list/],
      ['{"info": {"title": "x"}}', /no `openapi` or `swagger` version/],
    ] as const) {
      bodies['/openapi.json'] = body;
      await eventually(() => reason.test(f.discovered().get('t')?.error ?? ''));
      assert.deepEqual(f.discovered().get('t')?.last?.body, DOC, 'the last good document is kept');
    }
  });

  it('a schema nested 10,000 levels deep is refused, and the process lives on', async () => {
    // Written as text: JSON.stringify itself cannot go that deep.
    const nested = `${'{"type":"array","items":'.repeat(10_000)}{"type":"string"}${'}'.repeat(10_000)}`;
    const deep = `{"openapi":"3.1.0","info":{"title":"m","version":"1"},"paths":{},"components":{"schemas":{"Deep":${nested}}}}`;
    const u = await serving({ '/openapi.json': deep });
    const f = fetcher();
    f.update([task('t', '/openapi.json')], { c: cluster('c', [u.origin]) });
    await f.settle();
    assert.match(f.discovered().get('t')?.error ?? '', /nested deeper than 256 levels|nests too deeply/);
  });

  it('a large document is processed in the worker: requests sent meanwhile are answered before it is done', async () => {
    // ≈ 9 MB of operations and schemas: parsing and normalising it takes the worker a while.
    const paths: Record<string, unknown> = {};
    const schemas: Record<string, unknown> = {};
    for (let i = 0; i < 3500; i++) {
      schemas[`In${i}`] = {
        type: 'object',
        properties: Object.fromEntries(
          Array.from({ length: 12 }, (_, j) => [
            `f${j}`,
            { type: 'number', nullable: true, description: 'x'.repeat(60) },
          ]),
        ),
      };
      paths[`/op${i}`] = {
        post: {
          requestBody: { content: { 'application/json': { schema: { $ref: `#/components/schemas/In${i}` } } } },
          responses: { 200: { description: 'ok' } },
        },
      };
    }
    const big = JSON.stringify({
      openapi: '3.0.3',
      info: { title: 'big', version: '1' },
      paths,
      components: { schemas },
    });
    const u = await serving({ '/openapi.json': big, '/ping': 'pong' });
    const f = fetcher();
    let processed = false;
    f.update([task('t', '/openapi.json')], { c: cluster('c', [u.origin]) });
    const settled = f.settle().then(() => {
      processed = true;
    });
    // While the worker is busy the event loop is free: small requests keep being answered before it finishes.
    let answeredDuring = 0;
    while (!processed) {
      const res = await fetch(`${u.origin}/ping`);
      await res.text();
      if (!processed) answeredDuring++;
    }
    await settled;
    const last = f.discovered().get('t')?.last;
    assert.equal(last?.normalized, true);
    assert.equal((last?.body as { openapi?: string } | undefined)?.openapi, '3.1.0');
    assert.ok(answeredDuring >= 3, `${answeredDuring} requests answered while the document was processed`);
  });
});
