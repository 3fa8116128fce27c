/**
 * The protocol table against the data plane's own rewrite: for every protocol of the schema, every public path a
 * version's routes accept is rewritten (by the data plane's rewritePath) to an upstream path that the protocol's
 * publicPath maps back to the same public path — the docs' rebasing is the inverse of the routing, generated over
 * model names, versions and sub-paths.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { rewritePath } from '../../src/dataplane/rewrite.ts';
import { PROTOCOLS } from '../../src/protocols/table.ts';
import { PROTOCOLS as SCHEMA_PROTOCOLS } from '../../src/schema/model-api.ts';

const segment = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);

describe('protocol table', () => {
  it('has one definition for every protocol of the schema, under its own name', () => {
    assert.deepEqual(Object.keys(PROTOCOLS).sort(), [...SCHEMA_PROTOCOLS].sort());
    for (const [name, definition] of Object.entries(PROTOCOLS)) assert.equal(definition.name, name);
  });

  for (const name of SCHEMA_PROTOCOLS) {
    it(`${name}: publicPath inverts the routes' rewrite`, () => {
      const definition = PROTOCOLS[name];
      fc.assert(
        fc.property(
          segment,
          fc.option(segment, { nil: undefined }),
          fc.array(segment, { maxLength: 3 }),
          (modelName, modelVersion, rest) => {
            const model = { modelName, modelVersion };
            const basePath = `/models/${modelName}`;
            for (const route of definition.routes(basePath, model)) {
              const m = route.match.path;
              const publicPath =
                m.type === 'Exact' ? m.value : rest.length > 0 ? `${m.value}/${rest.join('/')}` : m.value;
              const upstream = rewritePath(route.rewrite, m, publicPath);
              const back = definition.publicPath({ protocol: name, basePath, ...model }, upstream);
              assert.equal(back?.path, publicPath, `${publicPath} → ${upstream} → ${back?.path}`);
            }
          },
        ),
        { numRuns: 200, seed: 1202 },
      );
    });
  }
});
