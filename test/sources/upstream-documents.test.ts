/**
 * The real documents model servers publish (test/fixtures/upstream: TGI, TorchServe, MLServer, the Open Inference
 * Protocol and KServe files) go through the whole docs pass — normalise, rebase on the gateway paths, merge — and
 * every published document passes a real OpenAPI 3.1 validator and both independent linters (Redocly `recommended`,
 * Spectral `spectral:oas`) without an error; warnings only of the kinds docs/openapi-lint.md explains. The upstream's
 * own security (OpenAI's bearer key, forwarded by the gateway) and `info` stay published.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { parse } from 'yaml';
import { compileSnapshot } from '../../src/compiler/compile.ts';
import { apiDocument, mergedDocument } from '../../src/docsplane/published.ts';
import { EMPTY_RESOURCES } from '../../src/resources/types.ts';
import type { ModelAPI } from '../../src/schema/model-api.ts';
import { assertLintClean } from '../helpers/linters.ts';

const fixtures = new URL('../fixtures/upstream/', import.meta.url);
const load = (file: string) => {
  const text = readFileSync(new URL(file, fixtures), 'utf8');
  return (file.endsWith('.json') ? JSON.parse(text) : parse(text)) as Record<string, unknown>;
};

const CASES: {
  name: string;
  file: string;
  protocol: ModelAPI['spec']['protocol'];
  modelVersion?: string;
  expect: string;
}[] = [
  { name: 'tgi', file: 'text-generation-inference/openapi.json', protocol: 'openapi', expect: '/models/tgi/generate' },
  {
    name: 'torchserve',
    file: 'torchserve/inference_open_api.json',
    protocol: 'openapi',
    expect: '/models/torchserve/predictions/{model_name}',
  },
  {
    name: 'mlserver',
    file: 'mlserver/dataplane.json',
    protocol: 'open-inference-v2',
    expect: '/models/mlserver/infer',
  },
  {
    name: 'oip',
    file: 'open-inference-protocol/open_inference_rest.yaml',
    protocol: 'open-inference-v2',
    modelVersion: '1',
    expect: '/models/oip/infer',
  },
  {
    name: 'openai',
    file: 'kserve/openai-openapi-2.0.0.yaml',
    protocol: 'openai',
    expect: '/models/openai/v1/chat/completions',
  },
  {
    name: 'kserve-v2',
    file: 'kserve/rest_predict_v2.yaml',
    protocol: 'open-inference-v2',
    modelVersion: '1',
    expect: '/models/kserve-v2/infer',
  },
];

function modelApi(c: (typeof CASES)[number]): ModelAPI {
  return {
    apiVersion: 'modelgate.dev/v1alpha1',
    kind: 'ModelAPI',
    metadata: { name: c.name, namespace: 'default' },
    spec: {
      protocol: c.protocol,
      docs: { openAPI: { inline: load(c.file) } },
      versions: [
        {
          name: 'v1',
          ...(c.modelVersion ? { modelVersion: c.modelVersion } : {}),
          backend: { url: 'http://10.0.0.1:8080' },
        },
      ],
    },
  };
}

describe('real upstream documents through the docs pass', () => {
  const { snapshot, statuses } = compileSnapshot({ ...EMPTY_RESOURCES, modelApis: CASES.map(modelApi) });
  for (const c of CASES) {
    it(`${c.file} is published under /models/${c.name}, valid`, async () => {
      const api = snapshot.docs.apis.find((a) => a.name === c.name)!;
      const documented = statuses
        .find((s) => s.ref === `ModelAPI/default/${c.name}`)!
        .conditions.find((x) => x.type === 'Documented')!;
      assert.equal(documented.status, 'True', documented.message);
      const document = apiDocument(snapshot.docs, api);
      const paths = Object.keys(document.paths as object);
      assert.ok(paths.includes(c.expect), `${c.expect} in ${paths.join(', ')}`);
      assert.ok(
        paths.every((p) => p.startsWith(`/models/${c.name}`)),
        'every path under the public prefix',
      );
      const result = await validate(structuredClone(document) as never);
      assert.ok(result.valid, compileErrors(result));
      await assertLintClean(document, c.file);
    });
  }
  it('merges all of them into one valid, lint-clean document', async () => {
    const document = mergedDocument(snapshot.docs).document;
    const result = await validate(structuredClone(document) as never);
    assert.ok(result.valid, compileErrors(result));
    await assertLintClean(document, 'the merged document');
  });
  it("keeps the upstream's own security (forwarded by the gateway) and info", () => {
    const api = snapshot.docs.apis.find((a) => a.name === 'openai')!;
    for (const document of [apiDocument(snapshot.docs, api), mergedDocument(snapshot.docs).document]) {
      const op = (document.paths as Record<string, Record<string, { security?: unknown }>>)[
        '/models/openai/v1/chat/completions'
      ]!.post!;
      assert.deepEqual(op.security, [{ 'openai.v1.ApiKeyAuth': [] }]);
      const schemes = (document.components as { securitySchemes: Record<string, unknown> }).securitySchemes;
      assert.deepEqual(schemes['openai.v1.ApiKeyAuth'], { type: 'http', scheme: 'bearer' });
      // An API whose upstream asks for nothing says so explicitly.
      const tgi = (document.paths as Record<string, Record<string, { security?: unknown }>>)['/models/tgi/generate'];
      if (tgi) assert.deepEqual(tgi.post!.security, []);
    }
    const own = apiDocument(snapshot.docs, api).info as Record<string, unknown>;
    assert.deepEqual(own['x-upstream-info'], {
      title: 'OpenAI API',
      version: '2.0.0',
      description: 'The OpenAI REST API. Please see https://platform.openai.com/docs/api-reference for more details.',
    });
    assert.match(String(own.description), /The OpenAI REST API/);
    const merged = mergedDocument(snapshot.docs).document;
    const tag = (merged.tags as { name: string; description: string; 'x-upstream-info'?: unknown }[]).find(
      (t) => t.name === 'openai',
    )!;
    assert.equal((tag['x-upstream-info'] as { title: string }).title, 'OpenAI API');
    assert.match(tag.description, /^The OpenAI REST API/);
  });
});
