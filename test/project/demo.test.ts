/**
 * `npm start` as a newcomer runs it: the demo answers a V2 prediction and a streamed chat completion within 15
 * seconds, and Ctrl-C stops everything. Run on free ports (`--port 0 --admin-port 0 --model-ports 0`), read back from
 * the banner, so two checkouts can test side by side.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { assertLintClean } from '../helpers/linters.ts';

const start = new URL('../../examples/demo/start.ts', import.meta.url).pathname;

describe('demo (npm start)', () => {
  it('serves a V2 prediction, a streamed chat completion and a REST prediction, then stops on Ctrl-C', async () => {
    const proc = spawn(process.execPath, [start, '--port', '0', '--admin-port', '0', '--model-ports', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MODELGATE_LOG_LEVEL: 'warn' },
    });
    const started = Date.now();
    let banner = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d: string) => {
      banner += d;
    });
    try {
      while (!/admin: http:\/\/127\.0\.0\.1:\d+/.test(banner) && Date.now() - started < 15_000)
        await new Promise((r) => setTimeout(r, 20));
      const gateway = banner.match(/gateway: +(http:\/\/127\.0\.0\.1:(\d+))/);
      const admin = banner.match(/admin: http:\/\/127\.0\.0\.1:(\d+)/);
      const iris = banner.match(/iris \(V2\) :(\d+)/);
      assert.ok(gateway && admin && iris, banner);
      assert.ok(![gateway[2], admin[1], iris[1]].some((p) => ['8080', '9901', '9101'].includes(p!)), banner);
      const base = gateway[1]!;
      let infer: Awaited<ReturnType<typeof request>> | undefined;
      while (Date.now() - started < 15_000) {
        try {
          infer = await request(`${base}/models/iris/infer`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [6.9, 3.1, 5.4, 2.1] }],
            }),
          });
          if (infer.statusCode === 200) break;
          await infer.body.dump();
        } catch {
          // not up yet
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(infer?.statusCode, 200, 'a V2 prediction within 15 s');
      const prediction = (await infer!.body.json()) as { outputs: { name: string; data: number[] }[] };
      assert.deepEqual(prediction.outputs.find((o) => o.name === 'class')?.data, [2], 'virginica');

      const chat = await request(`${base}/models/chat/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'tiny-chat',
          stream: true,
          messages: [{ role: 'user', content: 'how do models serve?' }],
        }),
      });
      assert.equal(chat.headers['content-type'], 'text/event-stream');
      const text = await chat.body.text();
      assert.match(text, /"object":"chat\.completion\.chunk"/);
      assert.ok(text.trimEnd().endsWith('data: [DONE]'));
      assert.ok(Date.now() - started < 15_000, 'both answered within 15 s');

      // The same model through the one OpenAI endpoint, by its alias (the README's example).
      const routed = await request(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'chat-small', messages: [{ role: 'user', content: 'hello' }] }),
      });
      assert.equal(routed.statusCode, 200);
      assert.equal(((await routed.body.json()) as { model: string }).model, 'chat-small');
      // The served id comes from the model server's GET /v1/models, asked right after start.
      let ids: string[] = [];
      for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
        const listed = (await (await request(`${base}/v1/models`)).body.json()) as { data: { id: string }[] };
        ids = listed.data.map((m) => m.id).sort();
        if (ids.length === 3) break;
      }
      assert.deepEqual(ids, ['chat-small', 'tiny-chat', 'tiny-chat-mini']);
      // tiny-chat takes two generations at once and answers 429 beyond: through /v1 the others go to tiny-chat-mini.
      const served = await Promise.all(
        [1, 2, 3, 4].map(async () => {
          const r = await request(`${base}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              model: 'tiny-chat',
              stream: true,
              messages: [{ role: 'user', content: 'tell me a long story about models' }],
            }),
          });
          await r.body.text();
          return `${r.statusCode} ${r.headers['x-modelgate-model']}`;
        }),
      );
      assert.ok(
        served.every((s) => s.startsWith('200 ')),
        served.join(', '),
      );
      assert.ok(served.includes('200 tiny-chat-mini'), `a fallback served: ${served.join(', ')}`);

      // The REST model is protected by an API key and rate limited.
      const anonymous = await request(`${base}/models/sentiment/predict`, {
        method: 'POST',
        body: '{"text":"I love it"}',
      });
      assert.equal(anonymous.statusCode, 401);
      await anonymous.body.dump();
      const rest = await request(`${base}/models/sentiment/predict`, {
        method: 'POST',
        headers: { 'x-api-key': 'demo-key-123' },
        body: '{"text":"I love it"}',
      });
      assert.equal(rest.headers['ratelimit-policy'], '"default";q=30;w=60');
      assert.deepEqual(await rest.body.json(), { label: 'positive', score: 0.5 });

      // /docs shows typed schemas for all three servers: V2 from metadata, OpenAI from its model list, REST from
      // the server's own document.
      type Doc = {
        paths: Record<string, { post?: Record<string, unknown> }>;
        components: { schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }> };
      };
      let doc: Doc | undefined;
      for (const until = Date.now() + 5000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
        doc = (await (await request(`${base}/openapi.json`)).body.json()) as Doc;
        if (doc.components.schemas['sentiment.v1.PredictRequest']) break; // discovery runs right after start
      }
      assert.ok(doc);
      assert.equal((doc as { servers?: { url: string }[] }).servers?.[0]?.url, base, '"Try it out" goes to this port');
      assert.equal(doc.paths['/models/iris/infer']?.post?.['x-schema-source'], 'metadata');
      assert.equal(doc.paths['/models/chat/v1/chat/completions']?.post?.['x-schema-source'], 'metadata');
      assert.deepEqual(doc.components.schemas['chat.v1.ChatCompletionRequest']?.properties?.model?.enum, ['tiny-chat']);
      assert.ok(doc.components.schemas['sentiment.v1.PredictRequest'], 'the REST server documents itself');
      // Every document the demo publishes is clean under both independent linters (the merged one carries the
      // demo's API-key scheme: every scheme referenced is defined, in each document).
      await assertLintClean(doc, 'the demo /openapi.json');
      for (const path of [
        '/openapi/default/iris.json',
        '/openapi/default/iris/versions/v2.json',
        '/openapi/default/chat.json',
        '/openapi/default/sentiment.json',
      ]) {
        const res = await request(base + path);
        assert.equal(res.statusCode, 200, path);
        await assertLintClean(await res.body.json(), `the demo ${path}`);
      }
      const docsPage = await request(`${base}/docs`);
      assert.equal(docsPage.statusCode, 200);
      await docsPage.body.dump();

      const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
      proc.kill('SIGINT');
      assert.equal(await exited, 0);
      await assert.rejects(fetch(`${base}/models/iris`));
      await assert.rejects(fetch(`http://127.0.0.1:${iris[1]}/v2/health/ready`));
    } finally {
      proc.kill('SIGKILL');
    }
  });
});
