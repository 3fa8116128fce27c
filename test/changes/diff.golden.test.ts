/**
 * The diff engine on small before/after pairs: `test/golden/diff/NAME.in.yaml` ({before, after, now}) must give the
 * changes in `NAME.out.yaml` (`UPDATE_GOLDEN=1` rewrites them). Every rule of the catalog has a pair named after it
 * that reports it; the `equivalent-*` pairs (3.0 vs 3.1 spellings, reordered anyOf, `$ref` vs inline, renamed path
 * parameters) report nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { diffDocuments } from '../../src/changes/diff.ts';
import { CHANGE_RULES } from '../../src/changes/rules.ts';

const dir = join(import.meta.dirname, '..', 'golden', 'diff');
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.in.yaml'))
  .map((f) => f.slice(0, -'.in.yaml'.length))
  .sort();

describe('diff golden pairs', () => {
  for (const name of cases) {
    it(name, () => {
      const input = parse(readFileSync(join(dir, `${name}.in.yaml`), 'utf8')) as {
        before: Record<string, unknown>;
        after: Record<string, unknown>;
        now: string;
      };
      const changes = diffDocuments(input.before, input.after, { now: new Date(input.now) });
      const actual = stringify({ changes });
      const file = join(dir, `${name}.out.yaml`);
      if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, actual);
      assert.equal(actual, readFileSync(file, 'utf8'));
      if (name in CHANGE_RULES)
        assert.ok(
          changes.some((c) => c.rule === name),
          `the pair named ${name} reports that rule`,
        );
      if (name.startsWith('equivalent-')) assert.deepEqual(changes, [], 'equivalent documents have no changes');
    });
  }

  it('has a pair for every rule of the catalog', () => {
    const missing = Object.keys(CHANGE_RULES).filter((rule) => !cases.includes(rule));
    assert.deepEqual(missing, []);
  });

  it('is symmetric where it must be: comparing a document with itself finds nothing', () => {
    for (const name of cases) {
      const input = parse(readFileSync(join(dir, `${name}.in.yaml`), 'utf8')) as { after: Record<string, unknown> };
      assert.deepEqual(diffDocuments(input.after, structuredClone(input.after)), [], name);
    }
  });
});
