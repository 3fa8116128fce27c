/**
 * The fast YAML path (js-yaml, taken only for documents that parse cleanly into a valid object of a known kind) must
 * give exactly what the located parser (yaml) gives: the same object and the same location. Held against a corpus —
 * every configuration in the repository (examples, deploy, golden inputs, the hostile corpus), split into documents
 * as the loader splits them — and against generated documents (fast-check) that vary scalars, quoting, flow and block
 * style, comments, markers, anchors and merge keys. Where the fast path declines, the located parser decides alone.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { fastParse, locatedParse, splitDocuments } from '../../src/sources/parse-yaml.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

function agree(text: string, where: string): boolean {
  const fast = fastParse('f.yaml', text);
  if (!fast) return false;
  const located = locatedParse('f.yaml', text);
  assert.deepEqual(fast, located, `${where}: the fast path differs from the located parser`);
  return true;
}

describe('the fast YAML path', () => {
  it('agrees with the located parser on every configuration in the repository', () => {
    let taken = 0;
    let total = 0;
    for (const dir of ['examples', 'deploy', 'test/golden/compiler', 'test/fixtures/hostile-config'])
      for (const file of yamlFiles(join(root, dir)))
        for (const doc of splitDocuments(readFileSync(file, 'utf8'))) {
          total++;
          if (agree(doc, file)) taken++;
        }
    // Most documents take the fast path (the test is not blind), and the hostile ones do not.
    assert.ok(taken > total / 3, `${taken} of ${total} documents took the fast path`);
  });

  it('declines what it cannot decide alone: anchors, merge keys, duplicates, errors, lists, deep nesting', () => {
    const base = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n';
    for (const text of [
      `${base}data: {a: &x one, b: *x}\n`,
      `${base}data:\n  <<: {a: b}\n`,
      `${base}data: {a: 1, a: 2}\n`,
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: BAD_NAME}\n',
      'apiVersion: v1\nkind: List\nitems: []\n',
      'apiVersion: example.com/v1\nkind: Unknown\nmetadata: {name: u}\n',
      `${base}data: {a: "unclosed}\n`,
      `%YAML 1.2\n---\n${base}`,
      `--- ${base}`,
      '# only a comment\n',
      `${base}data: ${'{a: '.repeat(70)}1${'}'.repeat(70)}\n`,
    ])
      assert.equal(fastParse('f.yaml', text), undefined, text);
  });

  it('agrees on generated documents (property)', () => {
    const scalar = fc.oneof(
      fc.constantFrom(
        '1',
        '0',
        '-3',
        '1.5',
        '1e3',
        '0x1F',
        '0o17',
        '010',
        '.inf',
        '-.Inf',
        '.nan',
        'true',
        'False',
        'yes',
        'no',
        'on',
        'null',
        '~',
        '',
        "''",
        '""',
        '"a\\tb"',
        "'it''s'",
        'a b',
        '2026-12-02',
        '12:30',
        '"x: y"',
        '|-\n    block',
        '>\n    folded',
      ),
      fc.stringMatching(/^[a-z][a-z0-9 ._/-]{0,12}$/),
    );
    const key = fc.stringMatching(/^[a-z][a-zA-Z0-9_.-]{0,8}$/);
    const prefix = fc.constantFrom('', '---\n', '# comment\n', '\n\n', '--- # marker comment\n', '  \n# c\n');
    fc.assert(
      fc.property(prefix, fc.dictionary(key, scalar, { maxKeys: 6 }), fc.boolean(), (start, data, flow) => {
        const entries = Object.entries(data);
        const body = flow
          ? `data: {${entries.map(([k, v]) => `${k}: ${v.includes('\n') ? JSON.stringify(v) : v}`).join(', ')}}\n`
          : `data:\n${entries.map(([k, v]) => `  ${k}: ${v.replace(/\n/g, '\n  ')}`).join('\n')}\n`;
        const text = `${start}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c # the name\n${entries.length ? body : ''}`;
        const fast = fastParse('f.yaml', text);
        if (fast) assert.deepEqual(fast, locatedParse('f.yaml', text), text);
      }),
      { numRuns: 3000, seed: 1202 },
    );
  });
});
