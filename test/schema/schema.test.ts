/** The schema source of truth: validator messages and the structural shape of the generated CRDs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCrd } from '../../src/schema/crd.ts';
import { KINDS } from '../../src/schema/kinds.ts';
import { validateResource } from '../../src/schema/validate.ts';

const api = (spec: unknown) => ({
  apiVersion: 'modelgate.dev/v1alpha1',
  kind: 'ModelAPI',
  metadata: { name: 'm' },
  spec,
});

describe('validator', () => {
  const cases: { title: string; spec: unknown; expect: { pointer: string; message: RegExp }[] }[] = [
    {
      title: 'valid',
      spec: { protocol: 'openai', versions: [{ name: 'v1', backend: { url: 'http://127.0.0.1:1' } }] },
      expect: [],
    },
    {
      title: 'enum',
      spec: { protocol: 'grpc', versions: [{ name: 'v1', backend: { url: 'http://a:1' } }] },
      expect: [{ pointer: '/spec/protocol', message: /must be one of: "open-inference-v2"/ }],
    },
    {
      title: 'unknown field',
      spec: { protocol: 'openai', versions: [{ name: 'v1', backend: { url: 'http://a:1' } }], timeout: '1s' },
      expect: [{ pointer: '/spec/timeout', message: /unknown field/ }],
    },
    {
      title: 'both backends',
      spec: {
        protocol: 'openai',
        versions: [{ name: 'v1', backend: { url: 'http://a:1', service: { name: 's', port: 80 } } }],
      },
      expect: [{ pointer: '/spec/versions/0/backend', message: /exactly one of 'service' or 'url'/ }],
    },
    {
      title: 'no backend',
      spec: { protocol: 'openai', versions: [{ name: 'v1', backend: {} }] },
      expect: [{ pointer: '/spec/versions/0/backend', message: /exactly one of/ }],
    },
    {
      title: 'missing required',
      spec: { protocol: 'openai' },
      expect: [{ pointer: '/spec/versions', message: /required field is missing/ }],
    },
    {
      title: 'bad duration',
      spec: {
        protocol: 'openai',
        versions: [{ name: 'v1', backend: { url: 'http://a:1' } }],
        timeouts: { request: '5 seconds' },
      },
      expect: [{ pointer: '/spec/timeouts/request', message: /pattern/ }],
    },
    {
      title: 'no versions',
      spec: { protocol: 'openai', versions: [] },
      expect: [{ pointer: '/spec/versions', message: /fewer than 1/ }],
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const violations = validateResource(api(c.spec)) ?? [];
      assert.equal(violations.length, c.expect.length, JSON.stringify(violations));
      c.expect.forEach((e, i) => {
        assert.equal(violations[i]!.pointer, e.pointer);
        assert.match(violations[i]!.message, e.message);
      });
    });
  }

  it('unknown kinds are not validated', () => {
    assert.equal(validateResource({ apiVersion: 'apps/v1', kind: 'Deployment' }), undefined);
  });
});

describe('CRDs are structural', () => {
  for (const kind of KINDS.filter((k) => k.crd)) {
    it(kind.kind, () => {
      const crd = buildCrd(kind) as {
        spec: { versions: { schema: { openAPIV3Schema: unknown }; subresources: unknown }[] };
      };
      const version = crd.spec.versions[0]!;
      assert.deepEqual(version.subresources, { status: {} });
      walk(version.schema.openAPIV3Schema, '', (node, path) => {
        assert.ok(!('$ref' in node), `${path}: $ref`);
        assert.ok(!('const' in node), `${path}: const`);
        assert.notEqual(node.additionalProperties, false, `${path}: additionalProperties false`);
        const typed = typeof node.type === 'string' || node['x-kubernetes-int-or-string'] === true;
        assert.ok(typed || path.includes('oneOf') || path.includes('anyOf'), `${path}: no type`);
      });
    });
  }
});

function walk(node: unknown, path: string, visit: (n: Record<string, unknown>, p: string) => void): void {
  if (typeof node !== 'object' || node === null) return;
  const n = node as Record<string, unknown>;
  visit(n, path);
  for (const [k, v] of Object.entries(n.properties ?? {})) walk(v, `${path}.${k}`, visit);
  if (n.items) walk(n.items, `${path}[]`, visit);
  if (typeof n.additionalProperties === 'object') walk(n.additionalProperties, `${path}{}`, visit);
}
