/**
 * The gateway's one OpenAI-compatible endpoint (issue 23), with real OpenAI-compatible servers on loopback: requests
 * to `/v1/chat/completions` and `/v1/completions` go to the ModelAPI serving the body's `model` (ids discovered from
 * each server's `GET /v1/models`), streaming included; an alias is rewritten to the upstream id; the target's own
 * policies apply (an API key); an unknown model is 404 with the ids the caller may use; `GET /v1/models` lists what
 * the caller may use, with `owned_by`; a model two ModelAPIs claim goes to the older one, reported on both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chatHandler } from '../../examples/servers/chat-openai-server.ts';
import { startServer } from '../../examples/servers/http-util.ts';
import {
  apiKeyGatewayYaml,
  call,
  eventually,
  modelApiYaml,
  startGateway,
  type TestGateway,
} from '../helpers/gateway.ts';
import { assertLintClean } from '../helpers/linters.ts';
import { startUpstream, type TestUpstream, unusedPort } from '../helpers/upstream.ts';

type Server = { server: import('node:http').Server; port: number };
type ModelList = { object: string; data: { id: string; owned_by: string }[] };

const KEY = 'private-key-0123456789';

describe('the OpenAI endpoint at /v1', () => {
  let gw: TestGateway;
  const servers: Server[] = [];
  const json = (body: unknown, headers: Record<string, string> = {}) => ({
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
  const ids = async (headers: Record<string, string> = {}) =>
    ((await call(`${gw.url}/v1/models`, { headers })).json() as ModelList).data.map((m) => m.id);
  const condition = (name: string) =>
    (
      gw.gateway.statuses.get(`ModelAPI/default/${name}`)?.conditions as
        | { type: string; status: string; reason: string; message: string }[]
        | undefined
    )?.find((c) => c.type === 'ModelsRouted');

  before(async () => {
    servers.push(
      await startServer(chatHandler('alpha-model', 1)),
      await startServer(chatHandler('beta-model', 1)),
      await startServer(chatHandler('secret-model', 1)),
    );
    const [alpha, beta, secret] = servers.map((s) => `http://127.0.0.1:${s.port}`);
    gw = await startGateway({
      'gw.yaml': apiKeyGatewayYaml(KEY),
      'alpha.yaml': modelApiYaml('alpha', 'openai', [{ name: 'v1', url: alpha! }]),
      'beta.yaml': modelApiYaml(
        'beta',
        'openai',
        [{ name: 'v1', url: beta! }],
        '  modelAliases: [{name: fast, model: beta-model}]\n',
      ),
      'private.yaml': modelApiYaml(
        'private',
        'openai',
        [{ name: 'v1', url: secret! }],
        '  auth: {providers: [keys]}\n',
      ),
      // Serves alpha-model too, and is younger (by name, in file mode): the model stays alpha's.
      'zeta.yaml': modelApiYaml('zeta', 'openai', [{ name: 'v1', url: alpha! }]),
    });
    await eventually(async () => (await ids({ 'x-api-key': KEY })).length === 4, 5000);
  });
  after(async () => {
    await gw?.stop();
    for (const s of servers) s.server.close();
  });

  it('routes chat completions and completions by the body’s model, to that model’s server', async () => {
    const chat = await call(
      `${gw.url}/v1/chat/completions`,
      json({ model: 'alpha-model', messages: [{ role: 'user', content: 'hello there' }] }),
    );
    assert.equal(chat.status, 200, chat.text);
    assert.equal((chat.json() as { model: string }).model, 'alpha-model');
    const completion = await call(`${gw.url}/v1/completions`, json({ model: 'beta-model', prompt: 'once upon' }));
    assert.equal(completion.status, 200, completion.text);
    assert.equal((completion.json() as { model: string }).model, 'beta-model');
    // Counted under the ModelAPI that served it, like a call to its own prefix.
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /modelgate_requests_total\{namespace="default",api="alpha",version="v1",code="200"\} 1/);
  });

  it('streams a chat completion through /v1', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'beta-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const text = await res.text();
    assert.match(text, /"model":"beta-model"/);
    assert.match(text, /data: \[DONE\]/);
  });

  it('rewrites an alias to the upstream id, and back in the answer (JSON and every SSE chunk)', async () => {
    const res = await call(
      `${gw.url}/v1/chat/completions`,
      json({ model: 'fast', messages: [{ role: 'user', content: 'hello' }] }),
    );
    // The example server refuses any id but its own: a 200 means it was asked for beta-model.
    assert.equal(res.status, 200, res.text);
    assert.equal((res.json() as { model: string }).model, 'fast', 'the answer names the id the client asked for');
    const streamed = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fast', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await streamed.text();
    assert.match(text, /"model":"fast"/);
    assert.doesNotMatch(text, /beta-model/);
  });

  it('applies the target ModelAPI’s own policies (an API key)', async () => {
    const body = { model: 'secret-model', messages: [{ role: 'user', content: 'hello' }] };
    const without = await call(`${gw.url}/v1/chat/completions`, json(body));
    assert.equal(without.status, 401);
    const withKey = await call(`${gw.url}/v1/chat/completions`, json(body, { 'x-api-key': KEY }));
    assert.equal(withKey.status, 200, withKey.text);
  });

  it('lists the models the caller may use, with the ModelAPI that owns each', async () => {
    assert.deepEqual(await ids(), ['alpha-model', 'beta-model', 'fast']);
    const list = (await call(`${gw.url}/v1/models`, { headers: { 'x-api-key': KEY } })).json() as ModelList;
    assert.equal(list.object, 'list');
    assert.deepEqual(
      list.data.map((m) => [m.id, m.owned_by]),
      [
        ['alpha-model', 'default/alpha'],
        ['beta-model', 'default/beta'],
        ['fast', 'default/beta'],
        ['secret-model', 'default/private'],
      ],
    );
    const one = await call(`${gw.url}/v1/models/beta-model`);
    assert.equal((one.json() as { id: string }).id, 'beta-model');
    assert.equal((await call(`${gw.url}/v1/models/secret-model`)).status, 404, 'not without the key');
  });

  it('answers an unknown model 404 with the ids the caller may use, and a missing model 400', async () => {
    const unknown = await call(`${gw.url}/v1/chat/completions`, json({ model: 'nope', messages: [] }));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers['content-type'], 'application/problem+json');
    assert.deepEqual((unknown.json() as { models: string[] }).models, ['alpha-model', 'beta-model', 'fast']);
    const missing = await call(`${gw.url}/v1/chat/completions`, json({ messages: [] }));
    assert.equal(missing.status, 400);
    const notJson = await call(`${gw.url}/v1/chat/completions`, { body: 'not json' });
    assert.equal(notJson.status, 400);
    const get = await call(`${gw.url}/v1/chat/completions`);
    assert.equal(get.status, 405);
  });

  it('is documented in /openapi.json (model enum with aliases), lint-clean, and every documented operation answers', async () => {
    type Op = {
      security?: unknown;
      requestBody?: {
        content: Record<string, { schema: { $ref: string }; examples?: Record<string, { value: unknown }> }>;
      };
    };
    const doc = (await call(`${gw.url}/openapi.json`)).json() as {
      paths: Record<string, Record<string, Op>>;
      components: { schemas: Record<string, { properties: { model: { enum: string[] } } }> };
    };
    const chat = doc.paths['/v1/chat/completions']!.post!;
    const schema = chat.requestBody!.content['application/json']!.schema.$ref.split('/').pop()!;
    assert.deepEqual(doc.components.schemas[schema]!.properties.model.enum, [
      'alpha-model',
      'beta-model',
      'fast',
      'secret-model',
    ]);
    // One model needs the key, the others nothing: both alternatives are told.
    assert.deepEqual(chat.security, [{ keys: [] }, {}]);
    await assertLintClean(doc, 'the merged document with the OpenAI endpoint');
    for (const [path, item] of Object.entries(doc.paths).filter(([p]) => p.startsWith('/v1/')))
      for (const [method, op] of Object.entries(item)) {
        const example = Object.values(op.requestBody?.content['application/json']?.examples ?? {})[0]?.value;
        const res = await call(gw.url + path, {
          method: method.toUpperCase(),
          ...(example ? json(example) : {}),
        });
        assert.equal(res.status, 200, `${method.toUpperCase()} ${path}: ${res.text.slice(0, 200)}`);
      }
  });

  it('gives a model two ModelAPIs claim to the older one, and reports it on both', async () => {
    assert.equal(condition('zeta')?.status, 'False');
    assert.equal(condition('zeta')?.reason, 'ModelConflict');
    assert.match(condition('zeta')!.message, /alpha-model \(served by ModelAPI\/default\/alpha\)/);
    assert.equal(condition('alpha')?.status, 'True');
    assert.match(condition('alpha')!.message, /conflict: alpha-model \(also claimed by ModelAPI\/default\/zeta\)/);
  });
});

describe('the OpenAI endpoint’s place', () => {
  it('moves with spec.openAIEndpoint.path, switches off, and refuses a ModelAPI on its paths', async () => {
    const chat = await startServer(chatHandler('m', 1));
    const url = `http://127.0.0.1:${chat.port}`;
    const gw = await startGateway({
      'gw.yaml':
        'apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  openAIEndpoint: {path: /llm/v1}\n',
      'chat.yaml': modelApiYaml('chat', 'openai', [{ name: 'v1', url }]),
      'squatter.yaml': modelApiYaml('squatter', 'openai', [{ name: 'v1', url }], '  pathPrefix: /llm/v1/mine\n'),
    });
    try {
      await eventually(async () => (await call(`${gw.url}/llm/v1/models`)).text.includes('"m"'), 5000);
      const accepted = gw.gateway.statuses
        .get('ModelAPI/default/squatter')
        ?.conditions.find((c) => c.type === 'Accepted');
      assert.equal(accepted?.reason, 'PathConflict');
      await gw.write(
        'gw.yaml',
        'apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  openAIEndpoint: {enabled: false}\n',
      );
      await eventually(async () => (await call(`${gw.url}/llm/v1/models`)).status === 404, 5000);
      assert.equal((await call(`${gw.url}/v1/models`)).status, 404);
    } finally {
      await gw.stop();
      chat.server.close();
    }
  });
});

describe('fallbacks of the OpenAI endpoint', () => {
  let gw: TestGateway;
  let backup: Server;
  let backupCalls = 0;
  const upstreams: TestUpstream[] = [];
  const lines: Record<string, unknown>[] = [];
  const chat = (model: string, stream = false) => ({
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hello' }] }),
    headers: { 'content-type': 'application/json' },
  });

  before(async () => {
    const handler = chatHandler('backup-model', 1);
    backup = await startServer(async (req, res, path) => {
      if (req.method === 'POST') backupCalls++;
      return handler(req, res, path);
    });
    const busy = await startUpstream('busy', (req, res) => {
      if (req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'primary', object: 'model' }] }));
      } else {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end('{"error":{"message":"rate limited"}}');
      }
      return true;
    });
    const broken = await startUpstream('broken', (_req, res) => {
      res.writeHead(503);
      res.end('overloaded');
      return true;
    });
    // Starts an answer, then dies: once a byte has gone to the client, nothing else may answer.
    const streamer = await startUpstream('streamer', (req, res) => {
      if (req.method !== 'POST') return false;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"model":"stream-model","choices":[{"delta":{"content":"Hel"}}]}\n\n');
      setTimeout(() => res.socket?.destroy(), 50);
      return true;
    });
    // Overloaded, and retried with a long back-off: its retries stay in flight long enough to fill its retry budget.
    const flaky = await startUpstream('flaky', (_req, res) => {
      res.writeHead(503);
      res.end('overloaded');
      return true;
    });
    upstreams.push(busy, broken, streamer, flaky);
    const closed = await unusedPort();
    const api = (name: string, url: string, extra: string) =>
      modelApiYaml(name, 'openai', [{ name: 'v1', url }], `  healthCheck: {active: {enabled: false}}\n${extra}`);
    gw = await startGateway(
      {
        'gw.yaml':
          'apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec: {accessLog: {}}\n',
        'backup.yaml': modelApiYaml('backup', 'openai', [{ name: 'v1', url: `http://127.0.0.1:${backup.port}` }]),
        'primary.yaml': api(
          'primary',
          busy.origin,
          '  modelFallbacks: [{model: primary, fallbacks: [backup-model]}]\n',
        ),
        'gone.yaml': api(
          'gone',
          `http://127.0.0.1:${closed}`,
          '  modelAliases: [{name: gone-model, model: gone-model}]\n  modelFallbacks: [{model: gone-model, fallbacks: [backup-model]}]\n',
        ),
        'broken.yaml': api(
          'broken',
          broken.origin,
          '  modelAliases: [{name: broken-model, model: broken-model}]\n  modelFallbacks: [{model: broken-model, fallbacks: [backup-model]}]\n',
        ),
        'streamer.yaml': api(
          'streamer',
          streamer.origin,
          '  modelAliases: [{name: stream-model, model: stream-model}]\n  modelFallbacks: [{model: stream-model, fallbacks: [backup-model]}]\n',
        ),
        'flaky.yaml': api(
          'flaky',
          flaky.origin,
          '  modelAliases: [{name: flaky-model, model: flaky-model}]\n  modelFallbacks: [{model: flaky-model, fallbacks: [backup-model]}]\n' +
            '  retries: {attempts: 1, on: [5xx], nonIdempotent: true, backoff: 4s}\n',
        ),
      },
      { accessLog: { write: (line) => lines.push(JSON.parse(line)) } },
    );
    await eventually(async () => (await call(`${gw.url}/v1/models`)).text.includes('"primary"'), 5000);
    await eventually(async () => (await call(`${gw.url}/v1/models`)).text.includes('"backup-model"'), 5000);
  });
  after(async () => {
    await gw?.stop();
    backup?.server.close();
    for (const u of upstreams) await u.close();
  });

  for (const [model, api, cause] of [
    ['primary', 'primary', 'status-429'],
    ['gone-model', 'gone', 'connect'],
    ['broken-model', 'broken', 'status-5xx'],
  ] as const) {
    it(`moves ${model} on to its fallback on ${cause}, and says which model served`, async () => {
      const res = await call(`${gw.url}/v1/chat/completions`, chat(model));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['x-modelgate-model'], 'backup-model');
      assert.equal((res.json() as { model: string }).model, 'backup-model');
      const line = lines.find((l) => l.requestId === res.headers['x-request-id']);
      assert.equal(line?.model, 'backup-model', 'the access log names the model that served');
      const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
      assert.match(
        metrics,
        new RegExp(
          `modelgate_model_fallbacks_total\\{namespace="default",api="${api}",model="${model}",cause="${cause}"\\} 1`,
        ),
      );
    });
  }

  it('streams a fallback’s answer too', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', ...chat('primary', true) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-modelgate-model'), 'backup-model');
    assert.match(await res.text(), /data: \[DONE\]/);
  });

  it('never falls back once the answer has started', async () => {
    const before = backupCalls;
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', ...chat('stream-model', true) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-modelgate-model'), 'stream-model');
    await assert.rejects(res.text(), 'the cut stream reaches the client as a cut stream');
    assert.equal(backupCalls, before, 'the fallback was not asked');
  });

  it('falls back only while the retry budget of the failing model’s version has room', async () => {
    const request = () => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', ...chat('flaky-model') });
    // Three requests fail and wait in their 2–4 s back-off: three retries in flight, the budget's floor.
    const waiting = [request(), request(), request()];
    await eventually(async () => {
      const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
      return /modelgate_retries_total\{[^}]*api="flaky"[^}]*\} 3/.test(metrics);
    }, 1500);
    const before = backupCalls;
    const refused = await request();
    assert.equal(refused.status, 503, 'the model’s own failure, since no fallback was allowed');
    assert.equal(refused.headers.get('x-modelgate-model'), 'flaky-model');
    assert.equal(backupCalls, before, 'the fallback was not asked');
    // Once a retry has ended, the budget has room again: the later ones fall back.
    const answers = await Promise.all(waiting);
    assert.ok(
      answers.some((a) => a.status === 200 && a.headers.get('x-modelgate-model') === 'backup-model'),
      answers.map((a) => a.status).join(),
    );
    await Promise.all(answers.map((a) => a.body?.cancel()));
  });
});

describe('audio uploads through the OpenAI endpoint', () => {
  it('routes a multipart transcription by its form’s model, re-encoding the form for an alias', async () => {
    const received: { model: string; file: string; contentType: string }[] = [];
    // (The helper hands the body over as text: the fake audio here is ASCII.)
    const whisper = await startUpstream('whisper', async (req, res, body) => {
      if (req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'whisper-1', object: 'model' }] }));
        return true;
      }
      if (req.url !== '/v1/audio/transcriptions') return false;
      const contentType = String(req.headers['content-type']);
      const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
      const file = form.get('file') as File;
      received.push({ model: String(form.get('model')), file: await file.text(), contentType });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ text: 'hello world' }));
      return true;
    });
    const gw = await startGateway({
      'whisper.yaml': modelApiYaml(
        'whisper',
        'openai',
        [{ name: 'v1', url: whisper.origin }],
        '  modelAliases: [{name: speech-to-text, model: whisper-1}]\n',
      ),
    });
    try {
      await eventually(async () => (await call(`${gw.url}/v1/models`)).text.includes('"whisper-1"'), 5000);
      for (const model of ['whisper-1', 'speech-to-text']) {
        const form = new FormData();
        form.append('model', model);
        form.append('file', new Blob(['RIFF....WAVEfmt fake audio']), 'clip.wav');
        const res = await fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', body: form });
        assert.equal(res.status, 200, await res.clone().text());
        assert.deepEqual(await res.json(), { text: 'hello world' });
      }
      assert.deepEqual(
        received.map((r) => [r.model, r.file]),
        [
          ['whisper-1', 'RIFF....WAVEfmt fake audio'],
          ['whisper-1', 'RIFF....WAVEfmt fake audio'],
        ],
      );
      assert.match(received[1]!.contentType, /^multipart\/form-data; boundary=/);
      const missing = await fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', body: new FormData() });
      assert.equal(missing.status, 400);
    } finally {
      await gw.stop();
      await whisper.close();
    }
  });
});

describe('every operation kind through the OpenAI endpoint', () => {
  it('routes embeddings, responses and audio/speech by model to the same paths under the ModelAPI', async () => {
    const omni = await startUpstream('omni', (req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url === '/v1/models')
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'omni', object: 'model' }] }));
      else res.end(JSON.stringify({ path: req.url, model: (JSON.parse(body) as { model: string }).model }));
      return true;
    });
    const gw = await startGateway({ 'omni.yaml': modelApiYaml('omni', 'openai', [{ name: 'v1', url: omni.origin }]) });
    try {
      await eventually(async () => (await call(`${gw.url}/v1/models`)).text.includes('"omni"'), 5000);
      for (const [operation, body] of [
        ['embeddings', { model: 'omni', input: 'The food was delicious.' }],
        ['responses', { model: 'omni', input: 'Tell me a story.' }],
        ['audio/speech', { model: 'omni', input: 'Hello.', voice: 'alloy' }],
      ] as const) {
        const res = await call(`${gw.url}/v1/${operation}`, {
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        });
        assert.equal(res.status, 200, `${operation}: ${res.text}`);
        assert.deepEqual(res.json(), { path: `/v1/${operation}`, model: 'omni' });
        assert.equal(res.headers['x-modelgate-model'], 'omni');
      }
    } finally {
      await gw.stop();
      await omni.close();
    }
  });
});
