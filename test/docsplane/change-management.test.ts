/**
 * API change management end to end through a real gateway: a model server changes its published document → a new
 * revision with its diff appears in /changelog (HTML, JSON, Atom), a breaking change without a new version shows as
 * `Compatible=False`, the history survives a restart (state directory); deprecated versions answer with Deprecation,
 * Sunset and Link headers, are counted per consumer, show a banner in /docs, and after their sunset answer 410 naming
 * the successor; the migration view lists what changes from one version to the next.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

type Changelog = {
  revisions: { api: string; version: string; revision: number; breaking: number; changes: { rule: string }[] }[];
};

const scoreDoc = (required: string[]) => ({
  openapi: '3.1.0',
  info: { title: 'scorer', version: '1' },
  paths: {
    '/score': {
      post: {
        operationId: 'score',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', required, properties: { text: { type: 'string' }, lang: { type: 'string' } } },
            },
          },
        },
        responses: { '200': { description: 'ok' } },
      },
    },
  },
});

describe('revisions and the changelog', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let document = scoreDoc(['text']);
  const stateDir = mkdtempSync(join(tmpdir(), 'modelgate-state-'));
  const files = () => ({
    'scorer.yaml': modelApiYaml(
      'scorer',
      'openapi',
      [{ name: 'v1', url: up.origin }],
      '  docs: {openAPI: {path: /openapi.json}, refreshInterval: 300ms}\n',
    ),
  });
  before(async () => {
    up = await startUpstream('scorer', (req, res) => {
      if (req.url !== '/openapi.json') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(document));
      return true;
    });
    gw = await startGatewayWithState(files(), stateDir);
  });
  after(async () => {
    await gw.stop();
    await up.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const changelog = async (g: TestGateway, path = '/changelog.json') =>
    (await call(`${g.url}${path}`)).json() as Changelog;

  it('records the first revision once the document is known', async () => {
    await eventually(async () => (await changelog(gw)).revisions.length === 1);
    const [first] = (await changelog(gw)).revisions;
    assert.equal(first!.api, 'ModelAPI/default/scorer');
    assert.equal(first!.revision, 1);
  });

  it('records a breaking change of the upstream document with its diff, in JSON, Atom, HTML and the status', async () => {
    document = scoreDoc(['text', 'lang']);
    await eventually(async () => (await changelog(gw)).revisions.length === 2, 5000);
    const [latest] = (await changelog(gw)).revisions;
    assert.equal(latest!.revision, 2, 'newest first');
    assert.equal(latest!.breaking, 1);
    assert.deepEqual(
      latest!.changes.map((c) => c.rule),
      ['request-property-became-required'],
    );
    const perApi = await changelog(gw, '/changelog/default/scorer.json');
    assert.equal(perApi.revisions.length, 2);
    const atom = await call(`${gw.url}/changelog.atom`);
    assert.equal(atom.headers['content-type'], 'application/atom+xml; charset=utf-8');
    assert.match(
      atom.text,
      /^<\?xml version="1.0" encoding="utf-8"\?>\n<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/,
    );
    assert.match(atom.text, /<title>\[BREAKING\] scorer v1 revision 2: 1 change\(s\), 1 breaking<\/title>/);
    assert.equal((atom.text.match(/<entry>/g) ?? []).length, 2);
    const page = await call(`${gw.url}/changelog`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<section id="v1-r2" class="breaking">/);
    const config = (await call(`${gw.adminUrl}/config`)).json() as {
      statuses: Record<string, { conditions: { type: string; status: string; message: string }[] }>;
    };
    const compatible = config.statuses['ModelAPI/default/scorer']!.conditions.find((c) => c.type === 'Compatible');
    assert.equal(compatible?.status, 'False');
    assert.match(compatible!.message, /v1 revision 2: 1 breaking change/);
  });

  it('keeps the history across a restart and goes on counting', async () => {
    await gw.stop();
    document = scoreDoc(['text']); // compatible again: the requirement is relaxed
    gw = await startGatewayWithState(files(), stateDir);
    await eventually(async () => (await changelog(gw)).revisions.length === 3, 5000);
    const [latest] = (await changelog(gw)).revisions;
    assert.equal(latest!.revision, 3);
    assert.equal(latest!.breaking, 0);
  });
});

async function startGatewayWithState(files: Record<string, string>, stateDir: string): Promise<TestGateway> {
  return startGateway(files, { stateDir });
}

describe('deprecation, sunset and migration', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  const versionDoc = (withLimit: boolean) =>
    `{openapi: 3.1.0, info: {title: m, version: "1"}, paths: {/predict: {post: {operationId: predict, ${withLimit ? 'parameters: [{name: limit, in: query, required: true, schema: {type: integer}}], ' : ''}responses: {"200": {description: ok}}}}${withLimit ? ', /old-predict: {post: {operationId: oldPredict, deprecated: true, x-sunset: "2099-06-30", responses: {"200": {description: ok}}}}' : ''}}}`;
  before(async () => {
    up = await startUpstream('model');
    gw = await startGateway({
      'gw.yaml':
        'apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  publicURL: https://models.example.com\n  auth:\n    providers: [{name: keys, apiKey: {secrets: [{name: keys}]}}]\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: keys}\nstringData: {team-a: key-a}\n',
      'api.yaml': `apiVersion: modelgate.dev/v1alpha1
kind: ModelAPI
metadata: {name: ranker}
spec:
  protocol: openapi
  auth: {providers: [keys]}
  versions:
    - name: v1
      weight: 100
      deprecated: true
      deprecatedAt: "2026-06-01T00:00:00Z"
      sunset: "2099-01-31"
      successor: v2
      backend: {url: "${up.origin}"}
      docs: {openAPI: {inline: ${versionDoc(false)}}}
    - name: v2
      backend: {url: "${up.origin}"}
      docs: {openAPI: {inline: ${versionDoc(true)}}}
    - name: v0
      weight: 0
      deprecated: true
      sunset: "2020-01-01"
      successor: v2
      backend: {url: "${up.origin}"}
    - name: legacy
      weight: 0
      deprecated: true
      sunset: "2020-01-01"
      afterSunset: Serve
      backend: {url: "${up.origin}"}
`,
    });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  const predict = (version: string) =>
    call(`${gw.url}/models/ranker/predict`, {
      body: '{}',
      headers: { 'x-api-key': 'key-a', 'x-model-version': version },
    });

  it('announces the deprecation on every answer of the deprecated version', async () => {
    const res = await predict('v1');
    assert.equal(res.status, 200);
    assert.equal(res.headers.deprecation, `@${Date.parse('2026-06-01T00:00:00Z') / 1000}`);
    assert.equal(res.headers.sunset, 'Sat, 31 Jan 2099 00:00:00 GMT');
    assert.equal(
      res.headers.link,
      '<https://models.example.com/changelog/default/ranker>; rel="deprecation"; type="text/html", <https://models.example.com/models/ranker/versions/v2>; rel="successor-version"',
    );
    const current = await predict('v2');
    assert.equal(current.headers.deprecation, undefined);
    const metrics = (await call(`${gw.adminUrl}/metrics`)).text;
    assert.match(
      metrics,
      /modelgate_deprecated_requests_total\{namespace="default",api="ranker",version="v1",consumer="team-a"\} 1/,
    );
  });

  it('announces an operation its model team marked deprecated, and only that one', async () => {
    const old = await call(`${gw.url}/models/ranker/old-predict`, {
      body: '{}',
      headers: { 'x-api-key': 'key-a', 'x-model-version': 'v2' },
    });
    assert.equal(old.status, 200);
    assert.equal(old.headers.sunset, 'Tue, 30 Jun 2099 00:00:00 GMT');
    assert.match(String(old.headers.deprecation), /^@\d+$/);
    assert.match(
      String(old.headers.link),
      /<https:\/\/models.example.com\/changelog\/default\/ranker>; rel="deprecation"/,
    );
    const current = await predict('v2');
    assert.equal(current.headers.deprecation, undefined);
  });

  it('answers 410 Gone naming the successor after the sunset, unless told to keep serving', async () => {
    const gone = await predict('v0');
    assert.equal(gone.status, 410);
    const problem = gone.json() as { code: string; successor: { version: string; url: string } };
    assert.equal(problem.code, 'MG-410-VERSION-GONE');
    assert.equal(problem.successor.version, 'v2');
    assert.equal(gone.headers.link, '<https://models.example.com/models/ranker/versions/v2>; rel="successor-version"');
    assert.equal(up.seen.filter((r) => r.headers['x-model-version'] === 'v0').length, 0);
    const legacy = await predict('legacy');
    assert.equal(legacy.status, 200);
    assert.equal(legacy.headers.sunset, 'Wed, 01 Jan 2020 00:00:00 GMT');
    assert.match(String(legacy.headers.deprecation), /^@\d+$/, 'dated from when the gateway first served it');
  });

  it('shows a banner in the docs and marks the operations deprecated with their sunset', async () => {
    const docs = (await call(`${gw.url}/docs`)).text;
    assert.match(docs, /<strong>ranker v1<\/strong> is deprecated and will be retired on <strong>2099-01-31<\/strong>/);
    assert.match(docs, /href="changelog\/default\/ranker\/migrate\?from=v1&amp;to=v2">migration guide/);
    assert.match(docs, /<strong>ranker v0<\/strong> is deprecated and was retired on <strong>2020-01-01<\/strong>/);
    const doc = (await call(`${gw.url}/openapi/default/ranker/versions/v1.json`)).json() as {
      paths: Record<string, { post: { deprecated?: boolean; 'x-sunset'?: string } }>;
    };
    const op = doc.paths['/models/ranker/versions/v1/predict']!.post;
    assert.equal(op.deprecated, true);
    assert.equal(op['x-sunset'], '2099-01-31');
  });

  it('lists what changes from one version to another, as JSON and as a page', async () => {
    const json = (await call(`${gw.url}/changelog/default/ranker/migrate.json?from=v1&to=v2`)).json() as {
      changes: { rule: string; operation: string; level: string }[];
    };
    assert.deepEqual(
      json.changes.map((c) => [c.rule, c.operation]),
      [
        ['parameter-added-required', 'POST /models/ranker/versions/v2/predict'],
        ['path-added', undefined],
      ],
    );
    const page = await call(`${gw.url}/changelog/default/ranker/migrate?from=v1&to=v2`);
    assert.equal(page.status, 200);
    assert.match(page.text, /2 difference\(s\), <strong>1 breaking<\/strong>/);
    const defaults = (await call(`${gw.url}/changelog/default/ranker/migrate.json`)).json() as {
      from: string;
      to: string;
    };
    assert.deepEqual([defaults.from, defaults.to], ['v1', 'v2'], 'from the deprecated version to its successor');
    const unknown = await call(`${gw.url}/changelog/default/ranker/migrate.json?from=v1&to=v9`);
    assert.equal(unknown.status, 404);
  });
});

describe('refusing breaking changes without a new version', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  let document: Record<string, unknown> = scoreDoc(['text']);
  before(async () => {
    up = await startUpstream('scorer', (req, res) => {
      if (req.url !== '/openapi.json') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(document));
      return true;
    });
    gw = await startGateway({
      'strict.yaml': modelApiYaml(
        'strict',
        'openapi',
        [{ name: 'v1', url: up.origin }],
        '  docs: {openAPI: {path: /openapi.json}, refreshInterval: 300ms, breakingChanges: Refuse}\n',
      ),
    });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  const published = async () =>
    (await call(`${gw.url}/openapi/default/strict.json`)).json() as {
      paths: Record<string, { post: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
      components: { schemas: Record<string, { required?: string[]; properties?: Record<string, unknown> }> };
    };
  const requestSchema = async () => {
    const doc = await published();
    const schema = doc.paths['/models/strict/score']!.post.requestBody.content['application/json']!.schema as {
      required?: string[];
      properties?: Record<string, unknown>;
      $ref?: string;
    };
    return schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()!]! : schema;
  };
  const compatible = async () => {
    const config = (await call(`${gw.adminUrl}/config`)).json() as {
      statuses: Record<string, { conditions: { type: string; status: string; reason: string; message: string }[] }>;
    };
    return config.statuses['ModelAPI/default/strict']!.conditions.find((c) => c.type === 'Compatible');
  };
  const revisions = async () => ((await call(`${gw.url}/changelog.json`)).json() as Changelog).revisions;

  it('keeps serving the last accepted revision and says why', async () => {
    await eventually(async () => (await revisions()).length === 1);
    document = scoreDoc(['text', 'lang']);
    await eventually(async () => (await compatible())?.reason === 'BreakingChangeRefused', 5000);
    const condition = await compatible();
    assert.equal(condition!.status, 'False');
    assert.match(condition!.message, /request-property-became-required/);
    assert.deepEqual((await requestSchema()).required, ['text'], 'the old document is still published');
    assert.equal((await revisions()).length, 1, 'no revision for what was refused');
  });

  it('publishes again once the change no longer breaks', async () => {
    const next = scoreDoc(['text']) as {
      paths: Record<
        string,
        { post: { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } } }
      >;
    };
    next.paths['/score']!.post.requestBody.content['application/json']!.schema.properties.score = { type: 'number' };
    document = next as unknown as Record<string, unknown>;
    await eventually(async () => (await revisions()).length === 2, 5000);
    assert.ok('score' in ((await requestSchema()).properties ?? {}));
    await eventually(async () => (await compatible())?.status === 'True');
  });
});

describe('the revision store lets go of what is not served', () => {
  const doc = (title: string) => ({ openapi: '3.1.0', info: { title, version: '1' }, paths: { '/x': { get: {} } } });
  const observation = (document: Record<string, unknown>) => ({
    api: 'ModelAPI/default/a',
    version: 'v1',
    document,
    source: { kind: 'inline' } as never,
  });

  it('releases the document of a removed version, keeps its revisions, and counts on when it comes back', async () => {
    const { RevisionStore } = await import('../../src/changes/revisions.ts');
    const store = new RevisionStore(undefined);
    assert.equal(store.observe(observation(doc('one')))?.revision, 1);
    assert.ok(store.latestEntry('ModelAPI/default/a', 'v1'), 'kept while served');
    store.releaseDocuments(() => false);
    assert.equal(store.latestEntry('ModelAPI/default/a', 'v1'), undefined, 'the document is gone');
    assert.equal(store.history('ModelAPI/default/a').length, 1, 'the revision stays');
    assert.equal(store.observe(observation(doc('one'))), undefined, 'the same content again is no revision');
    assert.equal(store.observe(observation(doc('two')))?.revision, 2, 'a change is the next revision');
  });

  it('the same content with its keys in another order is no revision; a change the diff does not classify is one', async () => {
    const { RevisionStore } = await import('../../src/changes/revisions.ts');
    const store = new RevisionStore(undefined);
    assert.equal(store.observe(observation(doc('one')))?.revision, 1);
    const reordered = { paths: { '/x': { get: {} } }, info: { version: '1', title: 'one' }, openapi: '3.1.0' };
    assert.equal(store.observe(observation(reordered)), undefined, 'equal content, other key order');
    const retitled = store.observe(observation(doc('one, retitled')));
    assert.equal(retitled?.revision, 2);
    assert.deepEqual(retitled?.changes, [], 'a new title: a revision without classified changes');
  });
});

describe('a breaking change behind $ref (FastAPI Flower), live', () => {
  // FastAPI's shape: the body is a Batch, whose flowers are Flower items reached only through $ref.
  const irisDoc = (required: string[]) => ({
    openapi: '3.1.0',
    info: { title: 'iris', version: '1' },
    paths: {
      '/predict': {
        post: {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Batch' } } },
          },
          responses: { '200': { description: 'ok' } },
        },
      },
    },
    components: {
      schemas: {
        Batch: {
          type: 'object',
          properties: { flowers: { type: 'array', items: { $ref: '#/components/schemas/Flower' } } },
        },
        Flower: {
          type: 'object',
          properties: { sepal_length: { type: 'number' }, petal_length: { type: 'number' } },
          required,
        },
      },
    },
  });
  let document: Record<string, unknown> = irisDoc(['sepal_length']);
  let up: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    up = await startUpstream('fastapi', (req, res) => {
      if (req.url !== '/openapi.json') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(document));
      return true;
    });
    const docs = (mode: string) =>
      `  docs: {openAPI: {path: /openapi.json}, refreshInterval: 300ms, breakingChanges: ${mode}}\n`;
    gw = await startGateway({
      'refuse.yaml': modelApiYaml('refuse', 'openapi', [{ name: 'v1', url: up.origin }], docs('Refuse')),
      'allow.yaml': modelApiYaml('allow', 'openapi', [{ name: 'v1', url: up.origin }], docs('Allow')),
    });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });
  const compatible = async (name: string) => {
    const config = (await call(`${gw.adminUrl}/config`)).json() as {
      statuses: Record<string, { conditions: { type: string; status: string; reason: string; message: string }[] }>;
    };
    return config.statuses[`ModelAPI/default/${name}`]?.conditions.find((c) => c.type === 'Compatible');
  };
  const flowerRequired = async (name: string) => {
    const doc = (await call(`${gw.url}/openapi/default/${name}.json`)).json() as {
      components: { schemas: Record<string, { required?: string[] }> };
    };
    return doc.components.schemas[`${name}.v1.Flower`]?.required;
  };

  it('is refused with Refuse and reported with Allow', async () => {
    await eventually(
      async () => (await flowerRequired('refuse'))?.length === 1 && (await compatible('refuse')) !== undefined,
    );
    document = irisDoc(['sepal_length', 'petal_length']);
    await eventually(async () => (await compatible('refuse'))?.reason === 'BreakingChangeRefused', 5000);
    assert.match((await compatible('refuse'))!.message, /request-property-became-required/);
    assert.deepEqual(await flowerRequired('refuse'), ['sepal_length'], 'the accepted document keeps serving');
    await eventually(async () => (await compatible('allow'))?.status === 'False', 5000);
    assert.match((await compatible('allow'))!.message, /1 breaking change/);
    const changelog = (await call(`${gw.url}/changelog/default/allow.json`)).json() as Changelog;
    assert.deepEqual(
      changelog.revisions.find((r) => r.revision === 2)?.changes.map((c) => c.rule),
      ['request-property-became-required'],
    );
    assert.deepEqual(await flowerRequired('allow'), ['sepal_length', 'petal_length'], 'published, and reported');
  });
});
