/**
 * A real upstream no one here wrote the framework of: a FastAPI + scikit-learn model server (Debian packages
 * python3-fastapi, python3-uvicorn, python3-sklearn). The gateway discovers its OpenAPI 3.0 document, and the merged
 * document holds its operations under the gateway paths. A client generated from the merged document with
 * openapi-typescript (and run with openapi-fetch) type-checks, gets a prediction through the gateway, and a client
 * that sends a wrong field type does not type-check.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { compileErrors, validate } from '@readme/openapi-parser';
import openapiTS, { astToString } from 'openapi-typescript';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { assertLintClean } from '../helpers/linters.ts';
import { startPythonServer } from '../helpers/python-server.ts';
import { requireSystemPackages } from '../helpers/system-packages.ts';

const root = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);

requireSystemPackages('python3-fastapi', 'python3-uvicorn', 'python3-sklearn');

describe('FastAPI + scikit-learn upstream', () => {
  let server: ChildProcess;
  let gw: TestGateway;
  let port: number;
  const workDir = join(root, '.tmp');

  before(async () => {
    ({ proc: server, port } = await startPythonServer('fastapi_iris.py'));
    gw = await startGateway({
      'iris.yaml': modelApiYaml(
        'iris-fastapi',
        'openapi',
        [{ name: 'v1', url: `http://127.0.0.1:${port}` }],
        '  docs: {discover: true}\n',
      ),
    });
    await eventually(async () => {
      const doc = (await call(`${gw.url}/openapi.json`)).json() as { paths: Record<string, unknown> };
      return doc.paths['/models/iris-fastapi/predict'] !== undefined;
    }, 10_000);
  });
  after(async () => {
    await gw?.stop();
    server?.kill('SIGTERM');
  });

  it('documents the discovered operations under the gateway paths, normalised to valid, lint-clean 3.1', async () => {
    const doc = (await call(`${gw.url}/openapi.json`)).json() as {
      paths: Record<string, { post?: { operationId: string; requestBody: unknown } }>;
      components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>> }> };
    };
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/models/iris-fastapi/health', '/models/iris-fastapi/predict']);
    assert.equal(doc.paths['/models/iris-fastapi/predict']!.post!.operationId, 'iris_fastapi_predict_predict_post');
    const measurements = doc.components.schemas['iris-fastapi.v1.Measurements']!;
    assert.deepEqual(measurements.properties.sepal_length, {
      title: 'Sepal Length',
      exclusiveMaximum: 20,
      exclusiveMinimum: 0,
      type: 'number',
      description: 'Sepal length (cm)',
    });
    const result = await validate(structuredClone(doc) as never);
    assert.ok(result.valid, compileErrors(result));
    await assertLintClean(doc, 'the FastAPI server as published');
    const status = gw.gateway.statuses.get('ModelAPI/default/iris-fastapi')!;
    const documented = status.conditions.find((c) => c.type === 'Documented')!;
    assert.equal(documented.status, 'True');
    const provenance = (status.versions as { docs: { source: string; openapiVersion: string } }[])[0]!.docs;
    assert.equal(provenance.source, 'upstream');
    assert.equal(provenance.openapiVersion, '3.0.2');
  });

  it('a client generated with openapi-typescript type-checks and gets a prediction through the gateway', async () => {
    mkdirSync(workDir, { recursive: true });
    const dir = mkdtempSync(join(workDir, 'client-'));
    try {
      const doc = (await call(`${gw.url}/openapi.json`)).json();
      writeFileSync(join(dir, 'schema.ts'), astToString(await openapiTS(doc as never)));
      const client = (body: string) => `import createClient from 'openapi-fetch';
import type { paths } from './schema.ts';

const client = createClient<paths>({ baseUrl: process.argv[2] });
const { data, error } = await client.POST('/models/iris-fastapi/predict', { body: ${body} });
if (error || !data) throw new Error(JSON.stringify(error));
const species: string = data.species;
console.log(JSON.stringify({ species, p: data.probabilities[species] }));
`;
      writeFileSync(
        join(dir, 'good.ts'),
        client('{ sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 }'),
      );
      writeFileSync(join(dir, 'bad.ts'), client("{ sepal_length: '6.7', sepal_width: 3.0, petal_length: 5.2 }"));
      const tsc = (file: string) =>
        run(
          process.execPath,
          [
            join(root, 'node_modules/typescript/bin/tsc'),
            '--noEmit',
            '--strict',
            '--target',
            'es2024',
            '--module',
            'nodenext',
            '--allowImportingTsExtensions',
            '--types',
            'node',
            '--typeRoots',
            join(root, 'node_modules/@types'),
            join(dir, file),
          ],
          { cwd: root },
        );
      await tsc('good.ts');
      await assert.rejects(tsc('bad.ts'), (err: { stdout: string }) => {
        assert.match(err.stdout, /bad\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
        return true;
      });
      const { stdout } = await run(process.execPath, [join(dir, 'good.ts'), gw.url], { cwd: root });
      const answer = JSON.parse(stdout) as { species: string; p: number };
      assert.equal(answer.species, 'virginica');
      assert.ok(answer.p > 0.5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
