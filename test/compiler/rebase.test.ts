/** Rebasing upstream documents on the gateway's public paths, per protocol, as a table of cases. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PathMapping, publicPathOf, rebaseDocument } from '../../src/compiler/docs/rebase.ts';

const v2: PathMapping = { protocol: 'open-inference-v2', modelName: 'iris', basePath: '/models/iris' };
const v2versioned: PathMapping = { ...v2, modelVersion: '3', basePath: '/models/iris/versions/v3' };
const v1: PathMapping = { protocol: 'kserve-v1', modelName: 'mnist', basePath: '/digits' };
const rest: PathMapping = { protocol: 'openapi', modelName: 'x', basePath: '/fraud' };

describe('publicPathOf', () => {
  const cases: [string, PathMapping, string, string | undefined, string[]][] = [
    ['V2 literal', v2, '/v2/models/iris/infer', '/models/iris/infer', []],
    ['V2 template fixes the model name', v2, '/v2/models/{model_name}/infer', '/models/iris/infer', ['model_name']],
    [
      'V2 ${NAME} as the official files spell it',
      v2,
      '/v2/models/${MODEL_NAME}/ready',
      '/models/iris/ready',
      ['MODEL_NAME'],
    ],
    ['V2 metadata path is the base', v2, '/v2/models/iris', '/models/iris', []],
    ['V2 other model is not routed', v2, '/v2/models/other/infer', undefined, []],
    ['V2 versioned path unreachable without a model version', v2, '/v2/models/iris/versions/{v}/infer', undefined, []],
    ['V2 server-wide path is not routed', v2, '/v2/health/ready', undefined, []],
    ['V2 versioned', v2versioned, '/v2/models/{m}/versions/{v}/infer', '/models/iris/versions/v3/infer', ['m', 'v']],
    ['V1 predict', v1, '/v1/models/mnist:predict', '/digits:predict', []],
    ['V1 templated status', v1, '/v1/models/{name}', '/digits', ['name']],
    ['V1 other verb', v1, '/v1/models/mnist:train', undefined, []],
    ['REST', rest, '/score', '/fraud/score', []],
    ['REST root', rest, '/', '/fraud', []],
  ];
  for (const [name, mapping, upstream, expected, fixed] of cases) {
    it(name, () => {
      const got = publicPathOf(mapping, upstream);
      assert.equal(got?.path, expected);
      if (got) assert.deepEqual(got.fixedParams, fixed);
    });
  }
});

describe('rebaseDocument', () => {
  const doc = (servers: unknown) => ({
    openapi: '3.1.0',
    info: { title: 't', version: '1' },
    ...(servers ? { servers } : {}),
    paths: {
      '/predict': { post: { servers: [{ url: 'https://elsewhere' }], responses: {} }, servers: [{ url: 'x' }] },
    },
  });
  it("drops BentoML's `servers: [{url: '.'}]` and per-path/operation servers", () => {
    const { document } = rebaseDocument(doc([{ url: '.' }]), rest);
    assert.equal(document.servers, undefined);
    const item = (document.paths as Record<string, Record<string, unknown>>)['/fraud/predict']!;
    assert.equal(item.servers, undefined);
    assert.equal((item.post as Record<string, unknown>).servers, undefined);
  });
  it("keeps a server URL's path as part of the upstream path", () => {
    for (const url of ['/api', 'https://upstream.example.com/api/']) {
      const { document } = rebaseDocument(doc([{ url }]), rest);
      assert.deepEqual(Object.keys(document.paths as object), ['/fraud/api/predict'], url);
    }
  });
  it('removes the path parameters the public path fixes, also through $ref, and reports dropped paths', () => {
    const { document, dropped } = rebaseDocument(
      {
        openapi: '3.1.0',
        info: { title: 't', version: '1' },
        paths: {
          '/v2/models/{model_name}/infer': {
            parameters: [{ $ref: '#/components/parameters/ModelName' }],
            post: {
              parameters: [
                { name: 'model_name', in: 'path', required: true },
                { name: 'q', in: 'query' },
              ],
              responses: {},
            },
          },
          '/v2/health/live': { get: { responses: {} } },
        },
        components: { parameters: { ModelName: { name: 'model_name', in: 'path', required: true } } },
      },
      v2,
    );
    const item = (document.paths as Record<string, Record<string, { parameters?: unknown[] }>>)['/models/iris/infer']!;
    assert.deepEqual(item.parameters, []);
    assert.deepEqual(item.post!.parameters, [{ name: 'q', in: 'query' }]);
    assert.deepEqual(dropped, ['/v2/health/live']);
  });
});
