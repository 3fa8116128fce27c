/**
 * Triton Inference Server behind the gateway (issue 25, point 6), against a stand-in that routes like Triton's HTTP
 * server and serves its example model `simple` (test/helpers/standins/triton.ts). Discovery reads the V2 metadata
 * (whose shapes already carry Triton's -1 batch dimension) and Triton's model configuration (`…/config`) for the bound
 * of that dimension, `max_batch_size`: the published infer schema and request validation hold batches to it, as Triton
 * does. Health uses Triton's own `/v2/health/ready`; the model repository API (load, unload, index) is not reachable
 * through a model's prefix, whatever the path.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { assertLintClean } from '../helpers/linters.ts';
import { startTriton, type TritonStandIn } from '../helpers/standins/triton.ts';

type Json = Record<string, unknown>;
type Doc = {
  paths: Record<
    string,
    Record<string, { requestBody?: { content: Record<string, { examples: Record<string, { value: Json }> }> } }>
  >;
  components: { schemas: Record<string, Json> };
};

const row = (n: number) => Array.from({ length: 16 }, (_, i) => i + n);
const request = (rows: number) => ({
  inputs: ['INPUT0', 'INPUT1'].map((name, k) => ({
    name,
    datatype: 'INT32',
    shape: [rows, 16],
    data: Array.from({ length: rows }, (_, r) => row(r + k)).flat(),
  })),
});

describe('Triton upstream (stand-in, example model `simple`)', () => {
  let triton: TritonStandIn;
  let gw: TestGateway;

  before(async () => {
    triton = await startTriton();
    gw = await startGateway({
      'simple.yaml': modelApiYaml(
        'simple',
        'open-inference-v2',
        [{ name: 'v1', url: triton.origin }],
        '  docs: {discover: true}\n  validation: {}\n  healthCheck: {active: {path: /v2/health/ready, interval: 1s}}\n',
      ),
    });
    await eventually(
      () =>
        /\/config$/.test(
          gw.gateway.statuses.get('ModelAPI/default/simple')?.conditions.find((c) => c.type === 'Documented')
            ?.message ?? '',
        ),
      10_000,
    );
  });
  after(async () => {
    await gw?.stop();
    await triton?.close();
  });

  it('documents the infer operation from the metadata and max_batch_size from the model configuration', async () => {
    const doc = (await call(`${gw.url}/openapi.json`)).json() as Doc;
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/models/simple', '/models/simple/infer', '/models/simple/ready']);
    const result = await validate(structuredClone(doc) as never);
    assert.ok(result.valid, compileErrors(result));
    await assertLintClean(doc, 'Triton simple as published');
    const text = JSON.stringify(doc.components.schemas);
    assert.match(text, /"minimum":1,"maximum":8/, 'the batch dimension is bounded by max_batch_size');
    assert.ok(triton.seen.includes('GET /v2/models/simple/config'));
  });

  it('answers the documented example 2xx, computes like the model, and refuses a batch over max_batch_size', async () => {
    const doc = (await call(`${gw.url}/openapi.json`)).json() as Doc;
    const examples = doc.paths['/models/simple/infer']!.post!.requestBody!.content['application/json']!.examples;
    for (const { value } of Object.values(examples)) {
      const res = await call(`${gw.url}/models/simple/infer`, {
        body: JSON.stringify(value),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 200, res.text);
    }
    for (const path of ['/models/simple', '/models/simple/ready'])
      assert.equal((await call(`${gw.url}${path}`)).status, 200, path);
    const full = await call(`${gw.url}/models/simple/infer`, {
      body: JSON.stringify(request(8)),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(full.status, 200, full.text);
    const out = (full.json() as { outputs: { name: string; data: number[] }[] }).outputs;
    assert.equal(out[0]!.data[0], 0 + 1, 'OUTPUT0 = INPUT0 + INPUT1');
    assert.equal(out[1]!.data[0], 0 - 1, 'OUTPUT1 = INPUT0 - INPUT1');
    const infers = triton.seen.filter((r) => r.endsWith('/infer')).length;
    const over = await call(`${gw.url}/models/simple/infer`, {
      body: JSON.stringify(request(9)),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(over.status, 400);
    assert.match(String(over.headers['content-type']), /problem\+json/);
    assert.match(over.text, /shape\/0/, 'the violation names the batch dimension');
    assert.equal(triton.seen.filter((r) => r.endsWith('/infer')).length, infers, 'Triton never saw it');
  });

  it("checks health with Triton's /v2/health/ready", async () => {
    await eventually(
      () =>
        gw.gateway.statuses.get('ModelAPI/default/simple')?.conditions.find((c) => c.type === 'Ready')?.status ===
        'True',
      5000,
    );
    assert.ok(triton.seen.includes('GET /v2/health/ready'));
  });

  it('never reaches the model repository API through the model prefix', async () => {
    const attempts = [
      '/models/simple/../../repository/index',
      '/models/simple/..%2F..%2Frepository%2Findex',
      '/models/simple/%2e%2e/%2e%2e/repository/index',
      '/models/simple/../../repository/models/simple/unload',
      '/models/simple/versions/1/../../../repository/index',
    ];
    for (const path of attempts) {
      const res = await call(`${gw.url}${path}`, { method: 'POST', body: '{}' });
      assert.ok(res.status >= 400, `${path}: ${res.status}`);
    }
    assert.deepEqual(
      triton.seen.filter((r) => r.includes('/repository')),
      [],
      'no request reached /v2/repository',
    );
  });
});
