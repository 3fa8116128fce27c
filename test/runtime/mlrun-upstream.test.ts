/**
 * MLRun serving graphs behind the gateway (issue 25, point 3), against a stand-in answering as MLRun's `ModelRouter`
 * and `V2ModelServer` do (test/helpers/standins/mlrun.ts): V2-style paths with MLRun's own bodies. A model logged with
 * features is documented with rows typed by them (and validated); one logged without is documented generically and
 * the `Documented` condition says why; a pinned model version goes to `/versions/<v>/`; health uses the model's own
 * `ready`. The published document is valid and lint-clean, and its example answers 2xx.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { mlrunSchemas, valueSchema } from '../../src/protocols/mlrun/document.ts';
import { readMLRunMetadata } from '../../src/protocols/mlrun/index.ts';
import { call, eventually, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { assertLintClean } from '../helpers/linters.ts';
import { type MLRunStandIn, startMLRun } from '../helpers/standins/mlrun.ts';

type Json = Record<string, unknown>;
type Doc = {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { examples?: Json }> } }>>;
};

const iris = {
  name: 'iris',
  version: 'v1',
  inputs: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name) => ({ name, value_type: 'float' })),
  outputs: [{ name: 'label', value_type: 'int' }],
};

describe('MLRun schemas', () => {
  const ajv = new Ajv2020({ strict: false });
  it('types rows by the features: in order, or by name', () => {
    const check = ajv.compile(mlrunSchemas(iris).request);
    assert.equal(check({ inputs: [[5.1, 3.5, 1.4, 0.2]] }), true);
    assert.equal(
      check({ inputs: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }] }),
      true,
    );
    assert.equal(check({ inputs: [[5.1, 3.5, 1.4]] }), false, 'a feature missing');
    assert.equal(check({ inputs: [['a', 3.5, 1.4, 0.2]] }), false, 'a string for a float');
    assert.equal(check({ inputs: [] }), false);
    assert.ok(check(mlrunSchemas(iris).example), 'the example is a valid request');
  });
  it("maps MLRun's value types", () => {
    assert.deepEqual(valueSchema('float'), { type: 'number' });
    assert.deepEqual(valueSchema('int'), { type: 'integer' });
    assert.deepEqual(valueSchema('uint8'), { type: 'integer', minimum: 0 });
    assert.deepEqual(valueSchema('str'), { type: 'string' });
    assert.deepEqual(valueSchema('List[float]'), { type: 'array', items: { type: 'number' } });
    assert.deepEqual(valueSchema('Tuple'), {});
  });
  it('reads metadata with features; without, it says why', () => {
    assert.equal(readMLRunMetadata(iris).ok, true);
    const none = readMLRunMetadata({ name: 'raw', version: '', inputs: [], outputs: [] });
    assert.equal(none.ok, false);
    assert.match((none as { error: string }).error, /logged without input features/);
    assert.equal(readMLRunMetadata({ models: ['a'] }).ok, false);
  });
});

describe('MLRun upstream (stand-in serving graph)', () => {
  let mlrun: MLRunStandIn;
  let gw: TestGateway;
  const documented = (api: string) =>
    gw.gateway.statuses.get(`ModelAPI/default/${api}`)?.conditions.find((c) => c.type === 'Documented');

  before(async () => {
    mlrun = await startMLRun();
    const api = (name: string, versions: string) => `apiVersion: modelgate.dev/v1alpha1
kind: ModelAPI
metadata: {name: ${name}}
spec:
  protocol: mlrun
  docs: {discover: true}
  validation: {}
  healthCheck: {active: {interval: 1s}}
  versions:
${versions}`;
    gw = await startGateway({
      'iris.yaml': api(
        'iris',
        `    - {name: v1, modelName: iris, weight: 100, backend: {url: ${mlrun.origin}}}\n    - {name: v2, modelName: iris, modelVersion: v2, weight: 0, backend: {url: ${mlrun.origin}}}\n`,
      ),
      'raw.yaml': api('raw', `    - {name: v1, modelName: raw, backend: {url: ${mlrun.origin}}}\n`),
    });
    await eventually(
      () => documented('iris')?.reason === 'Documented' && documented('raw')?.reason === 'DiscoveryFailed',
      10_000,
    );
  });
  after(async () => {
    await gw?.stop();
    await mlrun?.close();
  });

  it('documents a model logged with features exactly, and one without generically, saying why', async () => {
    const doc = (await call(`${gw.url}/openapi.json`)).json() as Doc;
    assert.ok(doc.paths['/models/iris/infer'] && doc.paths['/models/raw/infer']);
    const result = await validate(structuredClone(doc) as never);
    assert.ok(result.valid, compileErrors(result));
    await assertLintClean(doc, 'MLRun as published');
    assert.match(JSON.stringify(doc), /"title":"petal_length"/, 'rows typed by the features');
    assert.match(documented('raw')!.message, /logged without input features.*generic/);
  });

  it('answers the documented example 2xx, validates rows, pins a model version, checks health', async () => {
    const doc = (await call(`${gw.url}/openapi.json`)).json() as Doc;
    const examples = doc.paths['/models/iris/infer']!.post!.requestBody!.content['application/json']!.examples!;
    for (const { value } of Object.values(examples) as { value: Json }[]) {
      const res = await call(`${gw.url}/models/iris/infer`, {
        body: JSON.stringify(value),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 200, res.text);
    }
    const rows = await call(`${gw.url}/models/iris/infer`, {
      body: JSON.stringify({ inputs: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }] }),
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual((rows.json() as { outputs: number[] }).outputs, [0]);
    const seen = mlrun.seen.length;
    const bad = await call(`${gw.url}/models/iris/infer`, {
      body: JSON.stringify({ inputs: [[5.1, 3.5]] }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(bad.status, 400);
    assert.equal(mlrun.seen.length, seen, 'refused by the gateway');
    const pinned = await call(`${gw.url}/models/iris/versions/v2/infer`, {
      body: JSON.stringify({ inputs: [[6.7, 3, 5.2, 2.3]] }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal((pinned.json() as { model_version: string }).model_version, 'v2');
    assert.equal(mlrun.seen.at(-1), 'POST /v2/models/iris/versions/v2/infer');
    await eventually(
      () =>
        gw.gateway.statuses.get('ModelAPI/default/iris')?.conditions.find((c) => c.type === 'Ready')?.status === 'True',
      5000,
    );
    assert.ok(mlrun.seen.includes('GET /v2/models/iris/ready'));
  });
});
