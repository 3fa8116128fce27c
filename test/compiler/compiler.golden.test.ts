/**
 * Golden tests of the pure compiler: each `test/golden/compiler/NAME.in.yaml` (resources, as file mode reads them)
 * compiles to `NAME.out.yaml` (statuses + snapshot). `UPDATE_GOLDEN=1 npm test` rewrites the outputs; review the diff.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { compileSnapshot } from '../../src/compiler/compile.ts';
import { collect } from '../../src/sources/load-directory.ts';
import { parseObjects } from '../../src/sources/parse-yaml.ts';

const dir = new URL('../golden/compiler/', import.meta.url);
const update = process.env.UPDATE_GOLDEN === '1';

describe('compiler golden files', () => {
  const inputs = readdirSync(dir).filter((f) => f.endsWith('.in.yaml'));
  it('has cases', () => assert.ok(inputs.length >= 8));
  for (const input of inputs) {
    const name = input.replace(/\.in\.yaml$/, '');
    it(name, () => {
      const parsed = parseObjects(input, readFileSync(new URL(input, dir), 'utf8'));
      const diagnostics = [...parsed.diagnostics];
      const { resources } = collect(parsed.objects, diagnostics);
      assert.deepEqual(diagnostics, [], 'golden inputs must be schema-valid');
      // A public URL of its own: the default one (a loopback port, pinned by admin.test.ts) would read as a port bound by the test.
      const options = { defaultPublicURL: 'https://gateway.golden.test' };
      const first = compileSnapshot(resources, options);
      // Pure and deterministic: a second run gives the same result — from fresh copies of every resource, so none of
      // the compiler's reuse (by resource object) can hand back the first run's objects.
      const again = compileSnapshot(structuredClone(resources), options);
      assert.notEqual(again.statuses[0], first.statuses[0] ?? {}, 'a compilation of its own, not a reused one');
      assert.deepEqual(again, first);
      // The published documents have golden files of their own (docs.golden.test.ts); here only what was decided.
      const docs = {
        pathPrefix: first.snapshot.docs.pathPrefix,
        tasks: first.snapshot.docs.tasks,
        apis: first.snapshot.docs.apis.map((a) => ({
          ref: a.ref,
          tag: a.tag,
          documented: a.documented,
          versions: a.versions.map((v) => ({ name: v.name, source: v.source })),
        })),
      };
      const printable = { ...first, snapshot: { ...first.snapshot, docs } };
      const actual = stringify(printable, { lineWidth: 0, aliasDuplicateObjects: false });
      const outUrl = new URL(`${name}.out.yaml`, dir);
      if (update) writeFileSync(outUrl, actual);
      assert.equal(actual, readFileSync(outUrl, 'utf8'), `${name}: run UPDATE_GOLDEN=1 npm test and review the diff`);
    });
  }
});
