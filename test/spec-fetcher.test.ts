/**
 * The spec fetcher against real HTTP servers on loopback: ETag revalidation, size cap, timeout, last good kept,
 * only the task's own cluster endpoints contacted, refetch when endpoints change, Swagger 2.0 converted, tasks
 * cancelled when they leave the snapshot.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { DocsTask } from '../src/docs/discovery.ts';
import { SpecFetcher } from '../src/docs/spec-fetcher.ts';
import type { Cluster } from '../src/snapshot/types.ts';
import { eventually } from './helpers/gateway.ts';
import { startUpstream, type TestUpstream } from './helpers/upstream.ts';

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
    const f = new SpecFetcher({ onChange: () => changes++, ...options });
    closers.push(() => f.close());
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
    const a = await upstream(() => false);
    const b = await upstream(() => false);
    const bystander = await upstream(() => false);
    const { f } = fetcher();
    const tasks = [task('t', '/v1/models')];
    f.update(tasks, { c: cluster('c', [a.origin], '/base'), other: cluster('other', [bystander.origin]) });
    await eventually(() => a.seen.length === 1);
    assert.equal(a.seen[0]!.url, '/base/v1/models');
    f.update(tasks, { c: cluster('c', [b.origin], '/base'), other: cluster('other', [bystander.origin]) });
    await eventually(() => b.seen.length === 1); // the refresh interval is an hour: only the change explains it
    assert.equal(bystander.seen.length, 0);
    assert.equal(f.discovered().get('t')?.last?.location, `${b.origin}/v1/models`);
  });

  it('converts a fetched Swagger 2.0 document and remembers the original version', async () => {
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
    assert.match(String((last?.body as { openapi?: string } | undefined)?.openapi), /^3\.0/);
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
