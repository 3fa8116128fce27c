/**
 * The one list of system packages (scripts/system-packages.txt) and the step `npm test` runs first: present packages
 * pass, a missing one stops at once with the exact command to run (the tests run as root in CI, where the same step
 * installs instead; that path is exercised by every CI run, not here).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { installCommand, present, systemPackages } from '../../scripts/system-packages.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(root, 'scripts/system-packages.ts');

function runWith(list: string, ...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-pkgs-'));
  try {
    writeFileSync(join(dir, 'list.txt'), list);
    return spawnSync(process.execPath, [SCRIPT, ...args], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEM_PACKAGES_LIST: join(dir, 'list.txt') },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('system packages the tests need', () => {
  it('are listed once: npm test and .ci/run both run the script, neither names a package', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.pretest, 'node scripts/system-packages.ts');
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    assert.match(ci, /^npm run setup$/m);
    assert.equal(pkg.scripts.setup, 'node scripts/system-packages.ts');
    for (const p of systemPackages()) assert.ok(!new RegExp(`\\b${p.name}\\b`).test(ci), `.ci/run names ${p.name}`);
  });

  it('every listed package is here (the pretest step passed) and its probe is a known kind', () => {
    for (const p of systemPackages()) assert.ok(present(p), `${p.name} (${p.probe})`);
  });

  it('a missing package stops the check at once with the exact install command', () => {
    const list =
      'python3-fastapi python:fastapi the FastAPI server\nno-such-package file:/nonexistent/modelgate-probe a tool\n';
    const run = runWith(list, '--check');
    assert.equal(run.status, 1);
    assert.match(run.stderr, /no-such-package: a tool/);
    assert.ok(!run.stderr.includes('python3-fastapi'), 'only the missing ones are named');
    const sudo = process.getuid?.() !== 0;
    assert.ok(
      run.stderr.includes(installCommand([{ name: 'no-such-package', probe: '', purpose: '' }], sudo)),
      run.stderr,
    );
    assert.match(
      installCommand([
        { name: 'a', probe: '', purpose: '' },
        { name: 'b', probe: '', purpose: '' },
      ]),
      /^sudo apt-get update && sudo apt-get install -y --no-install-recommends a b$/,
    );
  });

  it('nothing missing: exit 0, silent', () => {
    const run = runWith('# comment\n\nnodejs-probe file:/ the root directory\n', '--check');
    assert.deepEqual([run.status, run.stderr], [0, '']);
  });

  it('an unknown probe kind is an error naming the package', () => {
    const run = runWith('odd dpkg:odd something\n', '--check');
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /odd: unknown probe dpkg:odd/);
  });
});
