/**
 * TorchServe behind the gateway (issue 25, point 5), against a stand-in that routes and answers like TorchServe
 * 0.12's frontend and serves the descriptions TorchServe generates (test/helpers/standins/torchserve.ts). Two ways a
 * user documents it: the whole inference API (`OPTIONS /`) and one model (`OPTIONS /predictions/{model}`, whose
 * singular `/prediction/{model}` path TorchServe's router does not answer). Either way the published document is
 * valid and lint-clean, every documented operation answers 2xx through the gateway, the inference token comes from a
 * Secret (clients need none, the document never shows it), health uses TorchServe's own `/ping`, and the management
 * API on its own port is not reachable through the inference API's prefix.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { assertLintClean } from '../helpers/linters.ts';
import { startTorchServe, type TorchServeStandIn } from '../helpers/standins/torchserve.ts';

type Doc = { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>> };

const INFERENCE_KEY = 'inference-key-5b1f';
const MANAGEMENT_KEY = 'management-key-77c0';

const secretYaml = `apiVersion: v1
kind: Secret
metadata: {name: torchserve-token}
stringData: {authorization: "Bearer ${INFERENCE_KEY}"}
`;

describe('TorchServe upstream (stand-in for 0.12)', () => {
  let ts: TorchServeStandIn;
  let gw: TestGateway;
  const ready = (name: string) =>
    gw.gateway.statuses.get(`ModelAPI/default/${name}`)?.conditions.find((c) => c.type === 'Ready')?.status;

  before(async () => {
    ts = await startTorchServe({ inferenceKey: INFERENCE_KEY, managementKey: MANAGEMENT_KEY });
    const withToken = (api: string, docs: string) =>
      modelApiYaml(
        api,
        'openapi',
        [{ name: 'v1', url: ts.inference }],
        `  docs: {openAPI: ${docs}}\n  healthCheck: {active: {path: /ping, interval: 1s}}\n`,
      ).replace('    - name: v1\n', '    - name: v1\n      requestHeaders: {secret: {name: torchserve-token}}\n');
    gw = await startGateway({
      'secret.yaml': secretYaml,
      'ts.yaml': withToken('ts', '{path: /, method: OPTIONS}'),
      'noop.yaml': withToken('noop', '{path: /predictions/noop, method: OPTIONS}'),
    });
    await eventually(async () => {
      const doc = (await call(`${gw.url}/openapi.json`)).json() as Doc;
      return (
        doc.paths['/models/ts/predictions/{model_name}'] !== undefined &&
        doc.paths['/models/noop/predictions/noop'] !== undefined
      );
    }, 10_000);
  });
  after(async () => {
    await gw?.stop();
    await ts?.close();
  });

  it('publishes what TorchServe answers: the singular model path repaired, /metrics (another port) left out', async () => {
    const doc = (await call(`${gw.url}/openapi.json`)).json() as Doc;
    const paths = Object.keys(doc.paths).sort();
    assert.deepEqual(
      paths.filter((p) => p.startsWith('/models/ts')),
      [
        '/models/ts',
        '/models/ts/api-description',
        '/models/ts/ping',
        '/models/ts/predictions/{model_name}',
        '/models/ts/predictions/{model_name}/{model_version}',
        '/models/ts/v1/models/{model_name}:predict',
        '/models/ts/v2/models/{model_name}/infer',
      ],
    );
    assert.deepEqual(
      paths.filter((p) => p.startsWith('/models/noop/')),
      ['/models/noop/predictions/noop', '/models/noop/v1/models/noop:predict', '/models/noop/v2/models/noop/infer'],
    );
    const result = await validate(structuredClone(doc) as never);
    assert.ok(result.valid, compileErrors(result));
    await assertLintClean(doc, 'TorchServe as published');
    for (const api of ['ts', 'noop'])
      assert.equal(
        gw.gateway.statuses.get(`ModelAPI/default/${api}`)?.conditions.find((c) => c.type === 'Documented')?.status,
        'True',
      );
    const text = (await call(`${gw.url}/openapi.json`)).text;
    assert.ok(!text.includes(INFERENCE_KEY), 'the token is not published');
  });

  it('answers every documented operation 2xx through the gateway, the token set by the gateway', async () => {
    const doc = (await call(`${gw.url}/openapi.json`)).json() as Doc;
    const values: Record<string, string> = { model_name: 'noop', model_version: '1.11' };
    let called = 0;
    for (const [template, item] of Object.entries(doc.paths)) {
      if (!template.startsWith('/models/ts') && !template.startsWith('/models/noop/')) continue;
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) => values[name]!);
      for (const method of Object.keys(item).filter((m) => m !== 'parameters')) {
        const res = await call(`${gw.url}${path}`, {
          method: method.toUpperCase(),
          ...(method === 'post' ? { body: 'x', headers: { 'content-type': 'application/octet-stream' } } : {}),
        });
        assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
        called++;
      }
    }
    assert.equal(called, 10);
    assert.equal((await call(`${gw.url}/models/noop/predictions/noop`, { body: 'x' })).text, 'OK');
  });

  it("checks health with TorchServe's /ping, token included", async () => {
    await eventually(() => ready('ts') === 'True' && ready('noop') === 'True', 5000);
    assert.ok(ts.seen.inference.some((r) => r === 'GET /ping'));
  });

  it('does not reach the management API through the inference prefix', async () => {
    const before = ts.seen.management.length;
    for (const path of ['/models/ts/models', '/models/ts/models/noop']) {
      const res = await call(`${gw.url}${path}`);
      assert.equal(res.status, 404, `${path}: the inference port does not serve management paths`);
    }
    assert.equal(ts.seen.management.length, before, 'nothing reached the management port');
  });
});
