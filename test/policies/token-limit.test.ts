/**
 * Token budgets of an OpenAI-compatible API through a real gateway in front of the example chat server: the tokens a
 * call costs are those the model reports (JSON answers and streamed ones); a stream whose client did not ask for usage
 * is asked for it on the client's behalf and the extra chunk removed, so the client gets exactly the stream it asked
 * for; a spent budget answers 429 with the token policy's headers. Plus the SSE rewriting at awkward chunk borders.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chatHandler } from '../../examples/servers/chat-openai-server.ts';
import { startServer } from '../../examples/servers/http-util.ts';
import { requestUsage, usageTap } from '../../src/policies/metering/usage.ts';
import { call, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { requireSystemPackages } from '../helpers/system-packages.ts';

const json = { 'content-type': 'application/json' };

describe('token budgets for OpenAI-compatible APIs', () => {
  let gw: TestGateway;
  let chat: { server: import('node:http').Server; port: number };
  const upstreamBodies: string[] = [];
  before(async () => {
    const handler = chatHandler('tiny-chat', 1);
    chat = await startServer(async (req, res, path) => {
      if (path.endsWith('/completions')) {
        // Record what the model received, then let the example server read it again.
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const body = Buffer.concat(chunks);
        upstreamBodies.push(body.toString('utf8'));
        const { Readable } = await import('node:stream');
        const replay = Object.assign(Readable.from([body]), { headers: req.headers, method: req.method, url: req.url });
        return handler(replay as never, res, path);
      }
      return handler(req, res, path);
    });
    gw = await startGateway({
      'chat.yaml': modelApiYaml(
        'chat',
        'openai',
        [{ name: 'v1', url: `http://127.0.0.1:${chat.port}` }],
        '  tokenLimit: {tokens: 40, per: 1h, key: route}\n',
      ),
    });
  });
  after(async () => {
    await gw.stop();
    chat.server.close();
  });

  const complete = (body: Record<string, unknown>) =>
    call(`${gw.url}/models/chat/v1/chat/completions`, {
      body: JSON.stringify({
        model: 'tiny-chat',
        messages: [{ role: 'user', content: 'one two three four' }],
        ...body,
      }),
      headers: json,
    });

  it('strips the usage chunk it asked for, and keeps the one the client asked for', async () => {
    const streamed = await complete({ stream: true, max_tokens: 8 });
    assert.equal(streamed.status, 200);
    assert.equal(streamed.headers['content-type'], 'text/event-stream');
    const sent = JSON.parse(upstreamBodies.at(-1)!) as { stream_options?: { include_usage?: boolean } };
    assert.equal(sent.stream_options?.include_usage, true, 'the gateway asked the model for usage');
    const events = streamed.text.split('\n\n').filter(Boolean);
    assert.equal(events.at(-1), 'data: [DONE]');
    assert.ok(
      events.slice(0, -1).every((e) => (JSON.parse(e.slice(6)) as { choices: unknown[] }).choices.length > 0),
      'no usage-only chunk reached the client',
    );
    const asked = await complete({ stream: true, max_tokens: 2, stream_options: { include_usage: true } });
    const usageEvents = asked.text.split('\n\n').filter((e) => e.includes('"usage"'));
    assert.equal(usageEvents.length, 1, 'the client asked for usage and gets it');
    const metrics = (await call(`${gw.adminUrl}/metrics`)).text;
    // 4 prompt words + 8 and + 2 completion tokens.
    assert.match(metrics, /modelgate_tokens_total\{namespace="default",api="chat",version="v1"\} 18/);
  });

  it('spends the budget by reported usage and refuses once it is gone', async () => {
    const answer = await complete({ max_tokens: 16 });
    assert.equal(answer.status, 200, 'some budget was left (40 - 18 = 22)');
    assert.match(String(answer.headers['ratelimit-policy']), /"tokens";q=40;w=3600/);
    // 22 - (4 + 16) = 2 left: still allowed; that call overdraws the budget.
    assert.equal((await complete({ max_tokens: 16 })).status, 200);
    const refused = await complete({ max_tokens: 1 });
    assert.equal(refused.status, 429);
    const problem = refused.json() as { code: string };
    assert.equal(problem.code, 'MG-429-TOKEN-LIMITED');
    assert.match(String(refused.headers['retry-after']), /^\d+$/);
    assert.match(String(refused.headers.ratelimit), /"tokens";r=0;t=\d+/);
  });
});

describe('usage in a stream cut at any byte', () => {
  it('finds the usage and removes its chunk wherever the chunk borders fall', () => {
    const stream = Buffer.from(
      'data: {"choices":[{"delta":{"content":"hé"}}],"usage":null}\n\n' +
        'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\n' +
        'data: [DONE]\n\n',
    );
    for (let cut = 1; cut < stream.length; cut += 7) {
      let tokens = -1;
      const tap = usageTap(true, (u) => {
        tokens = u.total;
        assert.deepEqual(u, { total: 5, input: 3, output: 2 });
      })(200, { 'content-type': 'text/event-stream' })!;
      const out = Buffer.concat([
        tap.data(stream.subarray(0, cut)),
        tap.data(stream.subarray(cut)),
        tap.end() ?? Buffer.alloc(0),
      ]);
      assert.equal(tokens, 5);
      assert.equal(
        out.toString('utf8'),
        'data: {"choices":[{"delta":{"content":"hé"}}],"usage":null}\n\ndata: [DONE]\n\n',
        `cut at ${cut}`,
      );
    }
  });

  it('asks for usage only on streamed requests that did not', () => {
    assert.equal(requestUsage(Buffer.from('{"stream":false}')).injected, false);
    assert.equal(requestUsage(Buffer.from('{"stream":true,"stream_options":{"include_usage":true}}')).injected, false);
    const injected = requestUsage(Buffer.from('{"stream":true,"stream_options":{"continuous_usage_stats":false}}'));
    assert.equal(injected.injected, true);
    assert.deepEqual(JSON.parse(injected.body.toString()).stream_options, {
      continuous_usage_stats: false,
      include_usage: true,
    });
  });
});

requireSystemPackages('redis-server');

describe('a token budget shared through Redis', () => {
  let redis: TestRedis;
  let chat: { server: import('node:http').Server; port: number };
  let a: TestGateway;
  let b: TestGateway;
  before(async () => {
    redis = await startRedis();
    chat = await startServer(chatHandler('tiny-chat', 0));
    const files = {
      'gw.yaml': `apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  redis: {url: "${redis.url}", timeout: 200ms}\n`,
      'chat.yaml': modelApiYaml(
        'chat',
        'openai',
        [{ name: 'v1', url: `http://127.0.0.1:${chat.port}` }],
        '  tokenLimit: {tokens: 30, per: 1h, key: route, scope: global}\n',
      ),
    };
    a = await startGateway(files);
    b = await startGateway(files);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    chat?.server.close();
    await redis?.stop();
  });

  it('usage reported through one replica is spent from the budget of the other', async () => {
    const ask = (gw: TestGateway, stream: boolean) =>
      call(`${gw.url}/models/chat/v1/chat/completions`, {
        body: JSON.stringify({ messages: [{ role: 'user', content: 'a b c d' }], max_tokens: 16, stream }),
        headers: json,
      });
    assert.equal((await ask(a, true)).status, 200); // 4 + 16 = 20 of 30, counted from the stream's usage
    assert.equal((await ask(b, false)).status, 200); // 10 left: allowed, then overdrawn
    const refused = await ask(a, false);
    assert.equal(refused.status, 429);
    assert.equal((refused.json() as { code: string }).code, 'MG-429-TOKEN-LIMITED');
  });
});
