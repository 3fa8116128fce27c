/**
 * The diff engine sees through `$ref`: the same change to a schema gives the same verdict whether the schema is
 * written inline or moved (wholly or in parts) into `components/schemas` and referenced — property-based (fast-check):
 * a random request/response schema, a random mutation of it (a property added, removed, made required, retyped; an
 * enum value added or removed; a constraint tightened), and a random choice of which subschemas live behind a
 * `$ref`; the changes found must be the same, rule, level and pointer. Plus the case found by hand in FastAPI's own
 * document: a new required property of a schema used only through `Batch.flowers.items.$ref`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { diffDocuments } from '../../src/changes/diff.ts';

type Json = Record<string, unknown>;

const leaf = fc.oneof(
  fc.constant({ type: 'string' }),
  fc.constant({ type: 'number' }),
  fc.constant({ type: 'integer', maximum: 100 }),
  fc.constant({ type: 'string', enum: ['a', 'b', 'c'] }),
  fc.constant({ type: 'boolean' }),
);
const schema: fc.Arbitrary<Json> = fc.letrec<{ node: Json }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc
      .dictionary(fc.constantFrom('p', 'q', 'r', 's'), tie('node'), { minKeys: 1, maxKeys: 3 })
      .chain((properties) =>
        fc
          .subarray(Object.keys(properties))
          .map((required) => ({ type: 'object', properties, ...(required.length ? { required } : {}) })),
      ),
    tie('node').map((items) => ({ type: 'array', items })),
  ),
})).node;

/** Paths (as JSON pointers below the root) of every subschema. */
function subschemas(s: Json, at = ''): string[] {
  const out = at ? [at] : [];
  if (s.properties)
    for (const [k, v] of Object.entries(s.properties as Record<string, Json>))
      out.push(...subschemas(v, `${at}/properties/${k}`));
  if (s.items) out.push(...subschemas(s.items as Json, `${at}/items`));
  return out;
}

function at(s: Json, pointer: string): Json {
  return pointer
    .split('/')
    .slice(1)
    .reduce<Json>((node, key) => node[key] as Json, s);
}

type Mutation = (s: Json) => void;
const mutations = (s: Json): Mutation[] => {
  const out: Mutation[] = [];
  for (const p of ['', ...subschemas(s)]) {
    const node = at(s, p);
    if (node.type === 'object') {
      const props = node.properties as Record<string, Json>;
      out.push((x) => {
        (at(x, p).properties as Record<string, Json>).added = { type: 'string' };
      });
      out.push((x) => {
        (at(x, p).properties as Record<string, Json>).added = { type: 'string' };
        at(x, p).required = [...((at(x, p).required as string[]) ?? []), 'added'];
      });
      for (const k of Object.keys(props)) {
        out.push((x) => {
          delete (at(x, p).properties as Record<string, Json>)[k];
          const r = ((at(x, p).required as string[]) ?? []).filter((y) => y !== k);
          if (r.length) at(x, p).required = r;
          else delete at(x, p).required;
        });
        if (!((node.required as string[]) ?? []).includes(k))
          out.push((x) => {
            at(x, p).required = [...((at(x, p).required as string[]) ?? []), k];
          });
      }
    } else if (Array.isArray(node.enum)) {
      out.push((x) => {
        at(x, p).enum = ['a', 'b'];
      });
      out.push((x) => {
        at(x, p).enum = ['a', 'b', 'c', 'd'];
      });
    } else if (node.type === 'integer') {
      out.push((x) => {
        at(x, p).maximum = 50;
      });
    } else if (typeof node.type === 'string' && node.type !== 'array') {
      out.push((x) => {
        at(x, p).type = node.type === 'string' ? 'number' : 'string';
      });
    }
  }
  return out;
};

/** The schema with the subschemas at `moved` (pointers) moved to components and referenced, deepest first. */
function extracted(s: Json, moved: readonly string[]): { schema: Json; components: Record<string, Json> } {
  const copy = structuredClone(s);
  const components: Record<string, Json> = {};
  const order = [...moved].sort((a, b) => b.split('/').length - a.split('/').length);
  for (const [i, pointer] of order.entries()) {
    const parts = pointer.split('/').slice(1);
    const key = parts.pop()!;
    // A subschema the mutation removed is not there to move.
    const parent = parts.reduce<Json | undefined>((node, k) => node?.[k] as Json | undefined, copy);
    if (!parent || !(key in parent)) continue;
    const name = `S${i}`;
    components[name] = parent[key] as Json;
    parent[key] = { $ref: `#/components/schemas/${name}` };
  }
  return { schema: copy, components };
}

function documentWith(request: Json, response: Json, components: Record<string, Json>): Json {
  return {
    openapi: '3.1.0',
    info: { title: 't', version: '1' },
    paths: {
      '/predict': {
        post: {
          requestBody: { content: { 'application/json': { schema: request } } },
          responses: { 200: { description: 'ok', content: { 'application/json': { schema: response } } } },
        },
      },
    },
    components: { schemas: components },
  };
}

const verdicts = (before: Json, after: Json) =>
  diffDocuments(before, after)
    .map((c) => `${c.level} ${c.rule} ${c.pointer}`)
    .sort();

describe('the diff sees through $ref', () => {
  it('a new required property of a schema used only through an array item $ref is breaking (FastAPI Flower)', () => {
    const flower = (required: string[]) => ({
      type: 'object',
      properties: { sepal_length: { type: 'number' }, petal_length: { type: 'number' } },
      required,
    });
    const doc = (required: string[]) =>
      documentWith(
        { $ref: '#/components/schemas/Batch' },
        { type: 'object' },
        {
          Batch: {
            type: 'object',
            properties: { flowers: { type: 'array', items: { $ref: '#/components/schemas/Flower' } } },
          },
          Flower: flower(required),
        },
      );
    assert.deepEqual(verdicts(doc(['sepal_length']), doc(['sepal_length', 'petal_length'])), [
      'breaking request-property-became-required /paths/~1predict/post/requestBody/content/application~1json/schema/properties/flowers/items/properties/petal_length',
    ]);
    assert.deepEqual(verdicts(doc(['sepal_length']), doc(['sepal_length'])), []);
  });

  it('the same mutation inline and behind $ref gives the same changes (property)', () => {
    fc.assert(
      fc.property(schema, fc.boolean(), fc.nat(), fc.func(fc.boolean()), (root, inRequest, pick, moveIt) => {
        const all = mutations(root);
        fc.pre(all.length > 0);
        const mutated = structuredClone(root);
        all[pick % all.length]!(mutated);
        const place = (s: Json) => (inRequest ? [s, { type: 'object' }] : [{ type: 'object' }, s]) as [Json, Json];
        const inline = verdicts(documentWith(...place(root), {}), documentWith(...place(mutated), {}));
        // The same subschemas behind a reference in both documents (chosen by their path), the root included.
        const moved = ['', ...subschemas(root)].filter((p) => moveIt(p)).map((p) => `/root${p}`);
        const wrap = (s: Json) => {
          const { schema: inner, components } = extracted({ root: s }, moved);
          return documentWith(...place(inner.root as Json), components);
        };
        assert.deepEqual(verdicts(wrap(root), wrap(mutated)), inline);
      }),
      { numRuns: 500, seed: 1202 },
    );
  });
});
