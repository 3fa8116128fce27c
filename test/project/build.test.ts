/**
 * The build every launcher starts (scripts/build.ts → dist/cli.js): plain JavaScript, so the gateway process never
 * needs Node's type stripper (which would stay in memory), with the portal's static files beside it, and `bin`
 * pointing at it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../../scripts/build.ts';
import { NODE_FLAGS } from '../../src/runtime/node-flags.ts';
import { call, eventually } from '../helpers/gateway.ts';
import { unusedPort } from '../helpers/upstream.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Reports every module the process resolves on stderr.
const hook = `data:text/javascript,${encodeURIComponent(
  "import { registerHooks } from 'node:module'; registerHooks({ resolve(s, c, next) { const r = next(s, c); process.stderr.write(`resolved ${r.url}\\n`); return r; } });",
)}`;

describe('the build', () => {
  const entry = ensureBuilt();

  it('is what `bin` runs, and loads no TypeScript module', () => {
    const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { bin: Record<string, string> };
    assert.equal(`${root}${pkg.bin.modelgate}`, entry);
    const run = spawnSync(process.execPath, ['--import', hook, entry, 'validate', 'examples/demo/config'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const modules = run.stderr.split('\n').filter((l) => l.startsWith('resolved file:'));
    assert.ok(modules.length > 20, 'the hook saw the modules');
    assert.deepEqual(
      modules.filter((l) => l.endsWith('.ts')),
      [],
    );
  });

  it('serves the portal with its own static files', async () => {
    const port = await unusedPort();
    const proc = spawn(
      process.execPath,
      [...NODE_FLAGS, entry, 'serve', '--config', 'examples/demo/config', '--port', String(port), '--admin-port', '0'],
      { cwd: root, stdio: 'ignore', env: { ...process.env, MODELGATE_LOG_LEVEL: 'warn' } },
    );
    try {
      let css: Awaited<ReturnType<typeof call>> | undefined;
      await eventually(async () => {
        css = await call(`http://127.0.0.1:${port}/docs-assets/portal.css`).catch(() => undefined);
        return css?.status === 200;
      }, 15_000);
      assert.equal(css!.text, readFileSync(`${root}/src/docsplane/portal/portal.css`, 'utf8'));
    } finally {
      proc.kill('SIGTERM');
    }
  });
});
