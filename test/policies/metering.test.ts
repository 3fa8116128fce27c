/**
 * Metering of OpenAI-compatible APIs without any token budget, through a real gateway in front of the example chat
 * server: a streamed chat completion (the client did not ask for usage) is asked for its usage on the client's behalf,
 * the usage chunk is removed again, and the usage becomes the GenAI metrics (tokens by type and consumer, time to first
 * token, duration), the access log's tokens and the trace's GenAI attributes at a real OTLP receiver.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chatHandler } from '../../examples/servers/chat-openai-server.ts';
import { startServer } from '../../examples/servers/http-util.ts';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { type OtlpReceiver, spanAttribute, startOtlpReceiver } from '../helpers/otlp.ts';

describe('metering of OpenAI-compatible answers', () => {
  let gw: TestGateway;
  let chat: { server: import('node:http').Server; port: number };
  const lines: Record<string, unknown>[] = [];
  let receiver: OtlpReceiver;

  before(async () => {
    receiver = await startOtlpReceiver();
    const otlp = receiver.url;
    chat = await startServer(chatHandler('tiny-chat', 1));
    gw = await startGateway(
      {
        'gw.yaml': `apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  accessLog: {}\n  tracing: {otlpEndpoint: "${otlp}"}\n`,
        'chat.yaml': modelApiYaml('chat', 'openai', [{ name: 'v1', url: `http://127.0.0.1:${chat.port}` }]),
      },
      { accessLog: { write: (line) => lines.push(JSON.parse(line)) } },
    );
  });
  after(async () => {
    await gw.stop();
    chat.server.close();
    await receiver.close();
  });

  it('a streamed answer: the client gets its own stream; metrics, access log and trace get the usage', async () => {
    const res = await call(`${gw.url}/models/chat/v1/chat/completions`, {
      headers: { 'content-type': 'application/json', 'x-request-id': 'metered-1' },
      body: JSON.stringify({
        model: 'tiny-chat',
        stream: true,
        messages: [{ role: 'user', content: 'one two three' }],
      }),
    });
    assert.equal(res.status, 200);
    assert.doesNotMatch(res.text, /"usage":\{/, 'the usage chunk the gateway asked for is not passed on');
    assert.match(res.text, /data: \[DONE\]/);

    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    const series = (type: string) =>
      new RegExp(
        `modelgate_gen_ai_tokens_total\\{namespace="default",api="chat",version="v1",model="tiny-chat",consumer="",type="${type}"\\} ([1-9]\\d*)`,
      ).exec(metrics)?.[1];
    assert.ok(
      series('input'),
      metrics
        .split('\n')
        .filter((l) => l.includes('gen_ai'))
        .join('\n'),
    );
    assert.ok(series('output'));
    assert.match(
      metrics,
      /modelgate_gen_ai_time_to_first_token_seconds_count\{namespace="default",api="chat",version="v1",model="tiny-chat"\} 1/,
    );
    assert.match(
      metrics,
      /modelgate_gen_ai_request_duration_seconds_count\{namespace="default",api="chat",version="v1",model="tiny-chat"\} 1/,
    );
    const total = Number(series('input')) + Number(series('output'));
    assert.match(
      metrics,
      new RegExp(`modelgate_tokens_total\\{namespace="default",api="chat",version="v1"\\} ${total}`),
    );

    await eventually(() => lines.some((l) => l.requestId === 'metered-1'));
    assert.equal(lines.find((l) => l.requestId === 'metered-1')?.tokens, total);

    await gw.gateway.dataPlane.tracing?.flush();
    await eventually(() => receiver.spans.some((s) => s.kind === 2), 5000);
    const server = receiver.spans.find((s) => s.kind === 2)!;
    const attr = (key: string) => spanAttribute(server, key);
    assert.equal(attr('gen_ai.request.model'), 'tiny-chat');
    assert.equal(attr('gen_ai.response.model'), 'tiny-chat');
    assert.equal(Number(attr('gen_ai.usage.input_tokens')) + Number(attr('gen_ai.usage.output_tokens')), total);
    assert.equal(attr('modelgate.gen_ai.stream'), true);
    assert.ok(Number(attr('modelgate.gen_ai.time_to_first_token')) > 0);
  });
});
