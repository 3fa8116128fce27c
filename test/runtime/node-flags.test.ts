/**
 * Every launcher of the gateway process passes the same Node/V8 flags (src/runtime/node-flags.ts): the npm script,
 * the executable's shebang, the container entrypoint, the conformance runner. Also checks that the flag does what it
 * is there for: a gateway started with it keeps its young generation small.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { NODE_FLAGS } from '../../src/runtime/node-flags.ts';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

describe('node flags of the gateway process', () => {
  it('are passed by every launcher', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const launchers: [string, string][] = [
      ['package.json scripts.modelgate', pkg.scripts.modelgate!],
      ['src/cli.ts shebang', read('src/cli.ts').split('\n')[0]!],
      ['Dockerfile ENTRYPOINT', read('Dockerfile').match(/^ENTRYPOINT .*$/m)![0]],
    ];
    for (const [where, line] of launchers)
      for (const flag of NODE_FLAGS) assert.ok(line.includes(flag), `${where} lacks ${flag}: ${line}`);
    // … and every one but the shebang (which the build keeps at the top of dist/cli.js) starts the build.
    for (const [where, line] of launchers.filter(([w]) => !w.includes('shebang')))
      assert.ok(line.includes('dist/cli.js'), `${where} does not start the build: ${line}`);
    // The conformance runner takes the flags from the module itself, in front of the built executable.
    const runner = read('scripts/conformance/run.ts');
    assert.match(runner, /import \{ NODE_FLAGS \} from '\.\.\/\.\.\/src\/runtime\/node-flags\.ts'/);
    assert.match(runner, /spawn\(\s*process\.execPath,\s*\[\s*\.\.\.NODE_FLAGS,\s*ensureBuilt\(\)/);
  });

  it('bound the young generation (V8 reads them at start only)', () => {
    const script =
      "const v8 = require('node:v8'); const keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 5e5) keep.length = 0; } console.log(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size)";
    const size = (flags: readonly string[]) =>
      Number(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' }));
    const bounded = size(NODE_FLAGS);
    assert.ok(bounded <= 40 * 1024 * 1024, `new space ${bounded} bytes with ${NODE_FLAGS.join(' ')}`);
    assert.ok(size([]) > bounded, 'without the flags V8 grows it further (the check is not blind)');
  });
});
