/**
 * Request validation against the published document, through a real gateway: a V2 model whose infer schema is
 * synthesized from its metadata (datatype, shape, and the data length JSON Schema cannot check), a REST model with a
 * documented query parameter and body; every violation listed with its JSON pointer in a 400 problem+json, nothing
 * reaching the model; report mode lets requests through and counts them; the document shows the 400.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer } from '../../examples/servers/http-util.ts';
import { irisHandler } from '../../examples/servers/iris-v2-server.ts';
import { tensorViolations } from '../../src/protocols/open-inference-v2/tensor-rules.ts';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

type Problem = { code: string; detail: string; violations: { pointer: string; message: string }[] };

const restDoc = `  docs:
    openAPI:
      inline:
        openapi: 3.1.0
        info: {title: scorer, version: "1"}
        paths:
          /score:
            post:
              operationId: score
              parameters: [{name: limit, in: query, required: true, schema: {type: integer, minimum: 1, maximum: 10}}]
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {$ref: "#/components/schemas/ScoreRequest"}
              responses: {"200": {description: ok}}
        components:
          schemas:
            ScoreRequest:
              type: object
              required: [text]
              additionalProperties: false
              properties:
                text: {type: string, minLength: 1}
                language: {enum: [en, de]}
`;

describe('request validation', () => {
  let gw: TestGateway;
  let iris: { server: import('node:http').Server; port: number };
  let rest: TestUpstream;
  let irisSeen = 0;
  before(async () => {
    const handler = irisHandler('iris');
    iris = await startServer(async (req, res, path) => {
      if (path.endsWith('/infer')) irisSeen++;
      return handler(req, res, path);
    });
    rest = await startUpstream('scorer');
    const irisUrl = `http://127.0.0.1:${iris.port}`;
    gw = await startGateway({
      'iris.yaml': modelApiYaml(
        'iris',
        'open-inference-v2',
        [{ name: 'v1', url: irisUrl, modelName: 'iris' }],
        '  docs: {discover: true}\n  validation: {}\n',
      ),
      'lenient.yaml': modelApiYaml(
        'lenient',
        'open-inference-v2',
        [{ name: 'v1', url: irisUrl, modelName: 'iris' }],
        '  docs: {discover: true}\n  validation: {mode: report}\n',
      ),
      'scorer.yaml': modelApiYaml(
        'scorer',
        'openapi',
        [{ name: 'v1', url: rest.origin }],
        `${restDoc}  validation: {}\n`,
      ),
    });
    // Validation holds requests to the document in effect: wait until the metadata made the schema exact.
    await eventually(async () => {
      const docs = await Promise.all(['iris', 'lenient'].map((n) => call(`${gw.url}/openapi/default/${n}.json`)));
      return docs.every((d) => d.text.includes('"features"'));
    });
  });
  after(async () => {
    await gw.stop();
    iris.server.close();
    await rest.close();
  });

  const infer = (api: string, body: unknown) =>
    call(`${gw.url}/models/${api}/infer`, {
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });

  it('lets a conforming V2 request through', async () => {
    const ok = await infer('iris', {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }],
    });
    assert.equal(ok.status, 200, ok.text);
  });

  it('refuses a wrong datatype, a wrong fixed dimension and a data length that does not fit the shape', async () => {
    const before = irisSeen;
    const bad = await infer('iris', {
      inputs: [{ name: 'features', datatype: 'INT32', shape: [2, 4], data: [1, 2, 3] }],
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['content-type'], 'application/problem+json');
    const problem = bad.json() as Problem;
    assert.equal(problem.code, 'MG-400-INVALID-REQUEST');
    const pointers = problem.violations.map((v) => v.pointer);
    assert.ok(pointers.includes('/inputs/0/datatype'), JSON.stringify(problem.violations));
    assert.ok(pointers.includes('/inputs/0/data'), JSON.stringify(problem.violations));
    const shape = await infer('iris', {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }],
    });
    assert.equal(shape.status, 400);
    assert.ok((shape.json() as Problem).violations.some((v) => v.pointer.startsWith('/inputs/0/shape')));
    const notJson = await call(`${gw.url}/models/iris/infer`, {
      body: '{"inputs": [',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(notJson.status, 400);
    assert.match((notJson.json() as Problem).detail, /not valid JSON/);
    assert.equal(irisSeen, before, 'no invalid request reached the model');
  });

  it('checks documented parameters and bodies of a REST model, listing every violation', async () => {
    const bad = await call(`${gw.url}/models/scorer/score?limit=50`, {
      body: JSON.stringify({ language: 'fr', extra: 1 }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(bad.status, 400);
    const violations = (bad.json() as Problem).violations;
    const pointers = violations.map((v) => v.pointer).sort();
    assert.deepEqual(pointers, ['/extra', '/language', '/text', 'query:limit'], JSON.stringify(violations));
    const missingParam = await call(`${gw.url}/models/scorer/score`, {
      body: JSON.stringify({ text: 'fine' }),
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual((missingParam.json() as Problem).violations, [
      { pointer: 'query:limit', message: 'required query parameter is missing' },
    ]);
    const wrongType = await call(`${gw.url}/models/scorer/score?limit=3`, {
      body: 'text=fine',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.match((wrongType.json() as Problem).violations[0]!.message, /not accepted/);
    assert.equal(rest.seen.length, 0);
    const ok = await call(`${gw.url}/models/scorer/score?limit=3`, {
      body: JSON.stringify({ text: 'fine', language: 'de' }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(ok.status, 200);
    assert.equal(rest.seen.length, 1);
    assert.equal(rest.seen[0]!.body, '{"text":"fine","language":"de"}', 'the body reaches the model unchanged');
  });

  it('report mode lets a bad request through and counts it', async () => {
    const before = irisSeen;
    const res = await infer('lenient', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1] }] });
    assert.equal(irisSeen, before + 1, 'the model saw it (and answers for itself)');
    assert.notEqual(res.headers['content-type'], 'application/problem+json');
    const metrics = (await call(`${gw.adminUrl}/metrics`)).text;
    assert.match(metrics, /modelgate_validation_failures_total\{namespace="default",api="lenient",mode="report"\} 1/);
    assert.match(metrics, /modelgate_validation_failures_total\{namespace="default",api="iris",mode="enforce"\} [1-9]/);
  });

  it('documents the 400 with its violations in the published document', async () => {
    const doc = (await call(`${gw.url}/openapi/default/scorer.json`)).json() as {
      paths: Record<string, { post: { responses: Record<string, { $ref?: string }> } }>;
      components: { responses: Record<string, unknown>; schemas: Record<string, { properties: object }> };
    };
    assert.equal(
      doc.paths['/models/scorer/score']!.post.responses['400']!.$ref,
      '#/components/responses/modelgate.ValidationFailed',
    );
    assert.ok('violations' in doc.components.schemas['modelgate.Problem']!.properties);
  });
});

describe('V2 tensor rules JSON Schema cannot state', () => {
  it('counts nested and flat data against the shape and finds repeated input names', () => {
    assert.deepEqual(
      tensorViolations({
        inputs: [
          {
            name: 'a',
            shape: [2, 2],
            data: [
              [1, 2],
              [3, 4],
            ],
          },
          { name: 'b', shape: [3], data: [1, 2, 3] },
          { name: 'a', shape: [2, 3], data: [1, 2, 3, 4, 5] },
        ],
      }),
      [
        { pointer: '/inputs/2/name', message: 'input a appears twice' },
        { pointer: '/inputs/2/data', message: 'shape [2, 3] needs 6 element(s), the data has 5' },
      ],
    );
    assert.deepEqual(tensorViolations({ inputs: [{ name: 'x', shape: [0], data: [] }] }), []);
  });
});
