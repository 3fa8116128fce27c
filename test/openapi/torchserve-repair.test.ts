/**
 * TorchServe's generated descriptions (its own test resources, test/fixtures/upstream/torchserve) repaired to what its
 * router answers (src/openapi/publishers/torchserve.ts, reached through normalizeTo31): the per-model description's
 * singular `/prediction/{model}` and undeclared `{model_name}` templates, `/metrics` listed on ports that do not serve
 * it. Anything that is not TorchServe's is left alone.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { normalizeTo31 } from '../../src/openapi/normalize-31.ts';
import { repairTorchServeDocument } from '../../src/openapi/publishers/torchserve.ts';

type Json = Record<string, unknown>;
const load = (file: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/upstream/torchserve/${file}`, import.meta.url), 'utf8')) as Json;
const pathsOf = (doc: Json) => Object.keys(doc.paths as Json);

describe('TorchServe descriptions', () => {
  it("repairs one model's description to the paths TorchServe answers, valid 3.1", async () => {
    const { document, errors } = normalizeTo31(load('describe_api.json'));
    assert.deepEqual(errors, []);
    assert.deepEqual(pathsOf(document), ['/predictions/noop', '/v1/models/noop:predict', '/v2/models/noop/infer']);
    const ids = pathsOf(document).map((p) => ((document.paths as Json)[p] as { post: Json }).post.operationId);
    assert.deepEqual(ids, ['noop', 'noop_2', 'noop_3']);
    const result = await validate(structuredClone(document) as never);
    assert.ok(result.valid, compileErrors(result));
  });

  it('leaves /metrics out of the inference and management descriptions (served on the metrics port)', () => {
    for (const file of ['inference_open_api.json', 'management_open_api.json']) {
      const { document } = normalizeTo31(load(file));
      assert.ok(!pathsOf(document).includes('/metrics'), file);
      assert.ok(pathsOf(document).includes('/api-description'), file);
    }
  });

  it('keeps /metrics when one address serves every API (inference and management listed together)', () => {
    const inference = load('inference_open_api.json');
    const management = load('management_open_api.json');
    const all = { ...inference, paths: { ...(inference.paths as Json), ...(management.paths as Json) } };
    assert.deepEqual(repairTorchServeDocument(all), []);
    assert.ok(pathsOf(all).includes('/metrics'));
  });

  it('leaves other documents alone, even with the same paths', () => {
    const other = { ...load('describe_api.json'), info: { title: 'My API', version: '1' } };
    const copy = structuredClone(other);
    assert.deepEqual(repairTorchServeDocument(other), []);
    assert.deepEqual(other, copy);
    const metrics = { ...load('inference_open_api.json'), info: { title: 'Another server', version: '1' } };
    assert.deepEqual(repairTorchServeDocument(metrics), []);
    assert.ok(pathsOf(metrics).includes('/metrics'));
  });

  it('keeps a declared {model_name} parameter as a template', () => {
    const doc = load('describe_api.json');
    const v2 = (doc.paths as Json)['/v2/models/{model_name}/infer'] as { post: Json };
    v2.post.parameters = [{ in: 'path', name: 'model_name', required: true, schema: { type: 'string' } }];
    repairTorchServeDocument(doc);
    assert.deepEqual(pathsOf(doc), ['/predictions/noop', '/v1/models/noop:predict', '/v2/models/{model_name}/infer']);
  });
});
