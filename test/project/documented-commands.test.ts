/**
 * Every `npm run <script>` the README and the docs tell a user to type exists in package.json (`npm run fuzz` was
 * documented for a while without the script).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function markdownFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.md'))
    .map((e) => join(e.parentPath, e.name));
  return [join(root, 'README.md'), join(root, 'CHANGELOG.md'), ...docs];
}

describe('documented commands', () => {
  it('every npm run <script> in the README and docs is a script of package.json', () => {
    const scripts = Object.keys(
      (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts,
    );
    const named = new Map<string, string>();
    for (const file of markdownFiles())
      for (const m of readFileSync(file, 'utf8').matchAll(/npm run ([a-z][a-z0-9:-]*)/g))
        named.set(m[1]!, file.slice(root.length));
    assert.ok(named.size >= 8, 'the docs name the usual scripts');
    const missing = [...named].filter(([script]) => !scripts.includes(script)).map(([s, f]) => `${s} (${f})`);
    assert.deepEqual(missing, []);
  });
});
