/** Reading objects from YAML: positions, field paths and every kind of bad input. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../src/resources/diagnostics.ts';
import { collect, loadDirectory } from '../../src/sources/load-directory.ts';
import { parseCacheSize, parseObjects } from '../../src/sources/parse-yaml.ts';

const good = `apiVersion: modelgate.dev/v1alpha1
kind: ModelAPI
metadata:
  name: a
spec:
  protocol: openai
  versions:
    - name: v1
      backend:
        url: http://127.0.0.1:1
`;

describe('parseObjects', () => {
  it('reads multi-document files and lists', () => {
    const text = `${good}---\n---\napiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: s}\n    spec: {ports: [{port: 80}]}\n`;
    const { objects, diagnostics } = parseObjects('f.yaml', text);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      objects.map((o) => [o.object.kind, o.location.line]),
      [
        ['ModelAPI', 1],
        ['Service', 16],
      ],
    );
  });

  it('points at the line, column and field of a schema error', () => {
    const bad = good.replace('protocol: openai', 'protocol: grpc');
    const { objects, diagnostics } = parseObjects('dir/a.yaml', bad);
    assert.equal(objects.length, 0);
    assert.equal(diagnostics.length, 1);
    assert.equal(
      formatDiagnostic(diagnostics[0]!),
      'dir/a.yaml:6:3: error: ModelAPI/default/a: spec.protocol: must be one of: "open-inference-v2", "kserve-v1", "openai", "openapi", "mlrun"',
    );
  });

  it('points at a nested field inside a list', () => {
    const bad = good.replace(
      'url: http://127.0.0.1:1',
      'url: http://127.0.0.1:1\n        service: {name: s, port: 80}',
    );
    const d = parseObjects('a.yaml', bad).diagnostics[0]!;
    assert.equal(d.field, 'spec.versions[0].backend');
    assert.equal(d.location?.line, 9);
    assert.equal(d.location?.column, 7);
  });

  it('reports unknown fields at their key', () => {
    const bad = good.replace('  versions:', '  timeout: 5s\n  versions:');
    const d = parseObjects('a.yaml', bad).diagnostics[0]!;
    assert.equal(d.field, 'spec.timeout');
    assert.equal(d.message, 'unknown field');
    assert.equal(d.location?.line, 7);
  });

  it('reports YAML syntax errors with position', () => {
    const { diagnostics } = parseObjects('a.yaml', 'kind: ModelAPI\nmetadata:\n  name: [unclosed\n');
    assert.equal(diagnostics[0]!.severity, 'error');
    assert.match(diagnostics[0]!.message, /^YAML: /);
    assert.equal(diagnostics[0]!.location?.file, 'a.yaml');
  });

  it('rejects duplicate keys', () => {
    const { diagnostics } = parseObjects('a.yaml', good.replace('kind: ModelAPI', 'kind: ModelAPI\nkind: ModelAPI'));
    assert.match(diagnostics[0]!.message, /unique|duplicate/i);
  });

  it('warns about kinds it does not read, and goes on', () => {
    const { objects, diagnostics } = parseObjects(
      'a.yaml',
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: c}\n---\n${good}`,
    );
    assert.equal(objects.length, 1);
    assert.equal(diagnostics[0]!.severity, 'warning');
  });

  it('rejects documents that are not objects', () => {
    assert.match(parseObjects('a.yaml', '- 1\n- 2\n').diagnostics[0]!.message, /expected a Kubernetes object/);
    assert.match(parseObjects('a.yaml', 'metadata: {name: x}\n').diagnostics[0]!.message, /apiVersion and kind/);
  });

  it('reads JSON', () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { k: 'v' } });
    assert.equal(parseObjects('s.json', json).objects.length, 1);
  });
});

describe('parseObjects document cache', () => {
  const doc = (name: string, protocol = 'openapi') =>
    `---\napiVersion: modelgate.dev/v1alpha1\nkind: ModelAPI\nmetadata: {name: ${name}}\nspec:\n  protocol: ${protocol}\n  versions: [{name: v1, backend: {url: "http://10.0.0.1"}}]\n`;
  it('reuses unchanged documents and still reports positions of the file as it is now', () => {
    const before = `${doc('x')}${doc('y', 'v9')}`;
    const first = parseObjects('f.yaml', before);
    assert.equal(formatDiagnostic(first.diagnostics[0]!).split(': error')[0], 'f.yaml:13:3');
    // A comment and three documents more in front (7 lines each): the cached ones move down with them.
    const after = `# a comment\n${doc('a')}${doc('b')}${doc('c')}${before}`;
    const second = parseObjects('g.yaml', after);
    assert.deepEqual(
      second.objects.map((o) => `${o.object.metadata.name}@${o.location.file}:${o.location.line}`),
      ['a@g.yaml:3', 'b@g.yaml:10', 'c@g.yaml:17', 'x@g.yaml:24'],
    );
    assert.equal(formatDiagnostic(second.diagnostics[0]!).split(': error')[0], 'g.yaml:35:3');
    // Read again where nothing moved: the very same located objects (a reload allocates nothing per document).
    const third = parseObjects('g.yaml', after);
    for (const [i, o] of second.objects.entries()) assert.equal(third.objects[i], o);
    assert.equal(third.diagnostics[0], second.diagnostics[0]);
    // The same document text parsed again yields equal objects (shared, never mutated by anyone).
    assert.deepEqual(parseObjects('h.yaml', doc('x')).objects[0]!.object, first.objects[0]!.object);
    // … and, namespaced by collect(), the same ModelAPI object: the compiler reuses its work by that identity.
    const load = () => collect(parseObjects('h.yaml', doc('x')).objects, []).resources.modelApis[0];
    assert.equal(load(), load());
  });
});

describe('collect', () => {
  it('reports a duplicate object at its second definition and defaults the namespace', () => {
    const first = parseObjects('a.yaml', good).objects;
    const second = parseObjects('b.yaml', good).objects;
    const diagnostics: Parameters<typeof collect>[1] = [];
    const { resources } = collect([...first, ...second], diagnostics);
    assert.equal(resources.modelApis.length, 1);
    assert.equal(resources.modelApis[0]!.metadata.namespace, 'default');
    assert.equal(
      formatDiagnostic(diagnostics[0]!),
      'b.yaml:1:1: error: ModelAPI/default/a: metadata.name: duplicate object; first defined at a.yaml:1',
    );
  });
});

describe('the parse cache follows the configuration', () => {
  it('forgets the documents of a directory that shrank (its memory is given back)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-parse-cache-'));
    try {
      const doc = (i: number) =>
        `apiVersion: modelgate.dev/v1alpha1\nkind: ModelAPI\nmetadata: {name: m${i}}\nspec:\n  protocol: openapi\n  versions: [{name: v1, backend: {url: "http://127.0.0.1:${1000 + i}"}}]\n`;
      writeFileSync(join(dir, 'small.yaml'), `${doc(0)}---\n${doc(1)}`);
      const before = parseCacheSize();
      writeFileSync(join(dir, 'large.yaml'), Array.from({ length: 200 }, (_, i) => doc(100 + i)).join('---\n'));
      await loadDirectory(dir);
      assert.ok(parseCacheSize() >= before + 200, 'the large file is cached');
      rmSync(join(dir, 'large.yaml'));
      await loadDirectory(dir);
      assert.ok(parseCacheSize() <= before + 2, `${parseCacheSize()} documents still cached`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
