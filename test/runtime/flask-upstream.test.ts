/**
 * A real Flask + flasgger model server (Debian python3-flask, python3-flasgger, python3-sklearn): flasgger publishes
 * Swagger 2.0 at its apispec path; the gateway fetches it (`docs.openAPI.path`), converts it to OpenAPI 3.1 (the body
 * parameter becomes a requestBody, `definitions` become component schemas), merges it under the gateway paths, and
 * the result is valid (@readme/openapi-parser) and lint-clean; every documented operation answers 2xx through the
 * gateway with its documented example; health checks use the server's own /health (issue 25, point 4).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { assertLintClean } from '../helpers/linters.ts';
import { startPythonServer } from '../helpers/python-server.ts';
import { requireSystemPackages } from '../helpers/system-packages.ts';

requireSystemPackages('python3-flask', 'python3-flasgger', 'python3-sklearn');

type Operation = {
  operationId?: string;
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, unknown>;
};
type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties: Record<string, { examples?: unknown[] }> }> };
};

describe('Flask + flasgger upstream (Swagger 2.0)', () => {
  let server: ChildProcess;
  let gw: TestGateway;

  before(async () => {
    const started = await startPythonServer('flask_iris.py');
    server = started.proc;
    const port = started.port;
    gw = await startGateway({
      'iris.yaml': modelApiYaml(
        'iris-flask',
        'openapi',
        [{ name: 'v1', url: `http://127.0.0.1:${port}` }],
        '  docs: {openAPI: {path: /apispec_1.json}}\n  healthCheck: {active: {path: /health, interval: 1s}}\n',
      ),
    });
    await eventually(async () => {
      const doc = (await call(`${gw.url}/openapi.json`)).json() as Doc;
      return doc.paths['/models/iris-flask/predict'] !== undefined;
    }, 10_000);
  });
  after(async () => {
    await gw?.stop();
    server?.kill('SIGTERM');
  });

  it('converts the Swagger 2.0 document to valid, lint-clean 3.1 under the gateway paths', async () => {
    const doc = (await call(`${gw.url}/openapi.json`)).json() as Doc;
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/models/iris-flask/health', '/models/iris-flask/predict']);
    const predict = doc.paths['/models/iris-flask/predict']!.post!;
    const ref = predict.requestBody?.content['application/json']?.schema.$ref ?? '';
    const measurements = doc.components.schemas[ref.split('/').pop()!];
    assert.ok(measurements, `the body parameter became a requestBody with the Measurements schema (${ref})`);
    assert.deepEqual(measurements.properties.sepal_length?.examples, [6.7], 'the 2.0 example, as 3.1 examples');
    const result = await validate(structuredClone(doc) as never);
    assert.ok(result.valid, compileErrors(result));
    await assertLintClean(doc, 'the Flask server as published');
    const status = gw.gateway.statuses.get('ModelAPI/default/iris-flask')!;
    assert.equal(status.conditions.find((c) => c.type === 'Documented')?.status, 'True');
    const provenance = (status.versions as { docs: { source: string; openapiVersion: string } }[])[0]!.docs;
    assert.equal(provenance.openapiVersion, '2.0');
  });

  it('answers every documented operation 2xx through the gateway, with the documented examples', async () => {
    const doc = (await call(`${gw.url}/openapi.json`)).json() as Doc;
    let called = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const ref = op.requestBody?.content['application/json']?.schema.$ref;
        const schema = ref ? doc.components.schemas[ref.split('/').pop()!] : undefined;
        const body = schema
          ? JSON.stringify(Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, v.examples?.[0]])))
          : undefined;
        const res = await call(`${gw.url}${path}`, {
          method: method.toUpperCase(),
          ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}),
        });
        assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
        called++;
      }
    }
    assert.equal(called, 2);
    // Health from the server's own route: the version is ready.
    await eventually(
      () =>
        gw.gateway.statuses.get('ModelAPI/default/iris-flask')?.conditions.find((c) => c.type === 'Ready')?.status ===
        'True',
      5000,
    );
    const prediction = (
      await call(`${gw.url}/models/iris-flask/predict`, {
        body: '{"sepal_length":6.7,"sepal_width":3.0,"petal_length":5.2,"petal_width":2.3}',
        headers: { 'content-type': 'application/json' },
      })
    ).json() as { species: string };
    assert.equal(prediction.species, 'virginica');
  });
});
