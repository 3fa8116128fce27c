/** The command line as users run it: `validate` output and exit codes; `serve` readiness and graceful shutdown. */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';
import { stringify as toYaml } from 'yaml';
import { modelApiYaml } from '../helpers/gateway.ts';
import { startUpstream, unusedPort } from '../helpers/upstream.ts';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
const run = promisify(execFile);

function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-cli-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

describe('modelgate validate', () => {
  it('exits 0 and summarises a valid directory', async () => {
    const dir = configDir({ 'a.yaml': modelApiYaml('a', 'openai', [{ name: 'v1', url: 'http://127.0.0.1:1' }]) });
    const { stdout } = await run(process.execPath, [cli, 'validate', dir]);
    assert.match(stdout, /1 ModelAPI\(s\) valid/);
  });

  it('exits 1 and prints file:line:column: error: object: field: message', async () => {
    const dir = configDir({
      'bad.yaml': modelApiYaml('a', 'openai', [{ name: 'v1', url: 'http://127.0.0.1:1' }]).replace('openai', 'telnet'),
    });
    const err = await run(process.execPath, [cli, 'validate', dir]).then(
      () => assert.fail('should fail'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.match(err.stderr, /^bad\.yaml:6:3: error: ModelAPI\/default\/a: spec\.protocol: must be one of/m);
    assert.match(err.stderr, /1 error\(s\)/);
  });

  it('warns about conditions that are not True (e.g. a missing Service)', async () => {
    const yaml = modelApiYaml('a', 'openai', [{ name: 'v1', url: 'http://x:1' }]).replace(
      'url: http://x:1',
      'service: {name: nope, port: 80}',
    );
    const { stderr, stdout } = await run(process.execPath, [cli, 'validate', configDir({ 'a.yaml': yaml })]);
    assert.match(stderr, /a\.yaml:1:1: warning: ModelAPI\/default\/a: ResolvedRefs=False \(BackendNotFound\)/);
    assert.match(stdout, /1 ModelAPI\(s\) valid, 2 warning\(s\)/);
  });
});

async function waitReady(adminPort: number, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`gateway exited with ${proc.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('gateway did not become ready');
}

describe('modelgate serve', () => {
  it('on SIGTERM stops accepting, finishes the request in flight, then exits 0', async () => {
    const up = await startUpstream('slow');
    const dir = configDir({ 'm.yaml': modelApiYaml('m', 'openapi', [{ name: 'v1', url: up.origin }]) });
    const [port, adminPort] = [await unusedPort(), await unusedPort()];
    const proc = spawn(
      process.execPath,
      [cli, 'serve', '--config', dir, '--port', String(port), '--admin-port', String(adminPort)],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, MODELGATE_LOG_LEVEL: 'warn' },
      },
    );
    try {
      await waitReady(adminPort, proc);
      const inflight = request(`http://127.0.0.1:${port}/models/m/delay/700`);
      await new Promise((r) => setTimeout(r, 150));
      const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
      proc.kill('SIGTERM');
      const res = await inflight;
      assert.equal(res.statusCode, 200, 'the request in flight completed');
      assert.equal(((await res.body.json()) as { name: string }).name, 'slow');
      assert.equal(await exited, 0);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/models/m/x`), 'no longer accepting connections');
    } finally {
      proc.kill('SIGKILL');
      await up.close();
    }
  });
});

describe('modelgate serve with the access log on', () => {
  it('writes one line per request to standard output, all of them written out when it stops', async () => {
    const up = await startUpstream('m');
    const gateway =
      'apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  accessLog: {}\n';
    const dir = configDir({
      'm.yaml': modelApiYaml('m', 'openapi', [{ name: 'v1', url: up.origin }]),
      'gw.yaml': gateway,
    });
    const [port, adminPort] = [await unusedPort(), await unusedPort()];
    const proc = spawn(
      process.execPath,
      [cli, 'serve', '--config', dir, '--port', String(port), '--admin-port', String(adminPort)],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MODELGATE_LOG_LEVEL: 'warn' } },
    );
    let stdout = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const stdoutClosed = new Promise((r) => proc.stdout!.once('close', r));
    try {
      await waitReady(adminPort, proc);
      // Fewer bytes than a batch: they leave the process when it stops, not because a batch filled up.
      const count = 40;
      for (let i = 0; i < count; i++) {
        const res = await request(`http://127.0.0.1:${port}/models/m/item/${i}`);
        await res.body.dump();
      }
      const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
      proc.kill('SIGTERM');
      assert.equal(await exited, 0);
      await stdoutClosed;
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { log?: string; path?: string; status?: number });
      const access = lines.filter((l) => l.log === 'access');
      assert.deepEqual(
        access.map((l) => [l.path, l.status]),
        Array.from({ length: count }, (_, i) => [`/models/m/item/${i}`, 200]),
      );
    } finally {
      proc.kill('SIGKILL');
      await up.close();
    }
  });
});

describe('modelgate docs', () => {
  it('builds the merged document offline, converting inline Swagger 2.0, and writes YAML or JSON', async () => {
    const swagger = {
      swagger: '2.0',
      info: { title: 'legacy', version: '1' },
      paths: {
        '/items': {
          get: { responses: { 200: { description: 'ok', schema: { type: 'array', items: { type: 'string' } } } } },
        },
      },
    };
    const dir = configDir({
      'legacy.yaml': modelApiYaml(
        'legacy',
        'openapi',
        [{ name: 'v1', url: 'http://10.0.0.1:8000' }],
        `  docs: {openAPI: {inline: ${JSON.stringify(swagger)}}}\n`,
      ),
      'iris.yaml': modelApiYaml('iris', 'open-inference-v2', [{ name: 'v1', url: 'http://10.0.0.2:8000' }]),
    });
    const out = join(mkdtempSync(join(tmpdir(), 'modelgate-docs-')), 'openapi.yaml');
    const { stderr } = await run(process.execPath, [
      cli,
      'docs',
      dir,
      '--out',
      out,
      '--public-url',
      'https://ml.example.com',
    ]);
    assert.equal(stderr, '', 'nothing to warn about: no discovery was asked for');
    const doc = (await import('yaml')).parse((await import('node:fs')).readFileSync(out, 'utf8')) as {
      servers: { url: string }[];
      paths: Record<string, unknown>;
    };
    assert.deepEqual(doc.servers, [{ url: 'https://ml.example.com' }]);
    assert.ok(doc.paths['/models/legacy/items'] && doc.paths['/models/iris/infer']);
    const one = await run(process.execPath, [cli, 'docs', dir, '--api', 'default/legacy']);
    assert.deepEqual(Object.keys((JSON.parse(one.stdout) as { paths: object }).paths), ['/models/legacy/items']);
  });

  it('asks the backends only with --fetch, and says what it could not learn offline', async () => {
    const up = await startUpstream('meta', (req, res) => {
      if (req.url !== '/v2/models/iris') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: 'iris', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }], outputs: [] }));
      return true;
    });
    try {
      const dir = configDir({
        'iris.yaml': modelApiYaml(
          'iris',
          'open-inference-v2',
          [{ name: 'v1', url: up.origin }],
          '  docs: {discover: true}\n',
        ),
      });
      const offline = await run(process.execPath, [cli, 'docs', dir]);
      assert.match(offline.stderr, /Documented=False \(DiscoveryFailed\).*offline build/);
      assert.equal(up.seen.length, 0, 'offline means offline');
      const fetched = await run(process.execPath, [cli, 'docs', dir, '--fetch']);
      assert.equal(fetched.stderr, '');
      assert.equal(up.seen.filter((r) => r.url === '/v2/models/iris').length, 1);
      const doc = JSON.parse(fetched.stdout) as { paths: Record<string, { post?: Record<string, unknown> }> };
      assert.equal(doc.paths['/models/iris/infer']!.post!['x-schema-source'], 'metadata');
    } finally {
      await up.close();
    }
  });
});

describe('modelgate diff', () => {
  const before = {
    openapi: '3.0.3',
    info: { title: 'scorer', version: '1' },
    paths: {
      '/score': {
        post: {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { type: 'object', properties: { text: { type: 'string' } } } } },
          },
          responses: { '200': { description: 'ok' } },
        },
      },
    },
  };
  const after = structuredClone(before) as typeof before & Record<string, unknown>;
  (after.paths['/score'].post.requestBody.content['application/json'].schema as Record<string, unknown>).required = [
    'text',
  ];

  it('exits 1 with --fail-on breaking when something breaks, 0 without; reads files and URLs, JSON and YAML', async () => {
    const dir = configDir({
      'old.json': JSON.stringify(before),
      'new.yaml': toYaml({ ...after, openapi: '3.1.0' }),
    });
    const served = await startUpstream('spec', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(after));
      return true;
    });
    try {
      const failing = await run(process.execPath, [
        cli,
        'diff',
        join(dir, 'old.json'),
        `${served.origin}/openapi.json`,
        '--fail-on',
        'breaking',
      ]).then(
        () => assert.fail('should exit 1'),
        (e: { code: number; stdout: string }) => e,
      );
      assert.equal(failing.code, 1);
      assert.match(
        failing.stdout,
        /BREAKING +request-property-became-required +POST \/score: property text is now required/,
      );
      const json = await run(process.execPath, [
        cli,
        'diff',
        join(dir, 'old.json'),
        join(dir, 'new.yaml'),
        '--format',
        'json',
      ]);
      const report = JSON.parse(json.stdout) as { summary: { breaking: number }; changes: { rule: string }[] };
      assert.equal(report.summary.breaking, 1);
      const same = await run(process.execPath, [
        cli,
        'diff',
        join(dir, 'old.json'),
        join(dir, 'old.json'),
        '--fail-on',
        'any',
      ]);
      assert.equal(same.stdout, 'no changes\n');
    } finally {
      await served.close();
    }
  });

  it('exits 2 when a document cannot be read', async () => {
    const err = await run(process.execPath, [cli, 'diff', '/nonexistent/a.json', '/nonexistent/b.json']).then(
      () => assert.fail('should fail'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err.code, 2);
    assert.match(err.stderr, /a\.json/);
  });
});
