/**
 * docs/openapi-lint.md explains every lint warning the published documents may keep: the list the lint checks allow
 * (test/helpers/linters.ts) and the page must agree, so a warning cannot be allowed without a reason written down.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { EXPLAINED_WARNINGS, UPSTREAM_CONTENT_WARNINGS } from '../helpers/linters.ts';

describe('docs/openapi-lint.md', () => {
  const page = readFileSync(new URL('../../docs/openapi-lint.md', import.meta.url), 'utf8');
  it('explains every warning the lint checks allow', () => {
    for (const rule of [...EXPLAINED_WARNINGS, ...UPSTREAM_CONTENT_WARNINGS]) {
      const [linter, name] = rule.split('/');
      const row = page.split('\n').find((line) => line.includes(`\`${name}\``));
      assert.ok(row, `${rule} is explained`);
      if (EXPLAINED_WARNINGS.includes(rule))
        assert.match(row, new RegExp(linter!, 'i'), `${rule}: the row names ${linter}`);
    }
  });
  it('allows nothing the page does not list', () => {
    const listed = [...page.matchAll(/^\| (?:Redocly|Spectral)\s*\| `([^`]+)`/gm)].map((m) => m[1]);
    const allowed = EXPLAINED_WARNINGS.map((r) => r.split('/')[1]);
    assert.deepEqual([...listed].sort(), [...allowed].sort());
  });
});
