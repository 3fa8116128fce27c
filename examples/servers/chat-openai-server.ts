/**
 * An OpenAI-compatible LLM server with a tiny deterministic text model: a bigram chain learned from a short built-in
 * corpus. It answers /v1/models, /v1/chat/completions and /v1/completions (both streamed as SSE with `stream: true`,
 * including the usage chunk when `stream_options.include_usage` is set) and /health.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJson, sendJson, startServer } from './http-util.ts';

const CORPUS = `
models serve predictions to applications through a gateway . the gateway routes every request to a healthy model server .
a model version can receive a share of the traffic while the team watches its metrics . the docs always match the deployed
models . every model api is described by an openapi document . consumers read the changelog before a version is retired .
the gateway streams tokens as soon as the model produces them . small models answer quickly and large models answer well .
`;

const words = CORPUS.trim().split(/\s+/);
const next = new Map<string, string[]>();
for (let i = 0; i < words.length - 1; i++) {
  const list = next.get(words[i]!) ?? [];
  list.push(words[i + 1]!);
  next.set(words[i]!, list);
}

/** Deterministic generation: the same prompt always gives the same tokens. */
export function generate(prompt: string, maxTokens: number): string[] {
  let seed = 0;
  for (const ch of prompt) seed = (seed * 31 + ch.charCodeAt(0)) >>> 0;
  const promptWords = prompt
    .toLowerCase()
    .split(/\W+/)
    .filter((w) => next.has(w));
  let word = promptWords.at(-1) ?? 'models';
  const out: string[] = [];
  for (let i = 0; i < maxTokens; i++) {
    const options = next.get(word) ?? words;
    seed = (seed * 1103515245 + 12345) >>> 0;
    word = options[seed % options.length]!;
    out.push(i === 0 ? word : ` ${word}`);
    if (word === '.' && i >= 8) break;
  }
  return out;
}

interface ChatBody {
  model?: string;
  messages?: { role: string; content: string }[];
  prompt?: string;
  max_tokens?: number;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
}

/**
 * Creates the OpenAI-compatible handler serving `modelId`. With `maxConcurrent`, a generation beyond that many at once
 * is answered 429 with Retry-After, as a saturated server does (vLLM's and TGI's queues, hosted rate limits).
 */
export function chatHandler(modelId = 'tiny-chat', chunkDelayMs = 15, maxConcurrent = Number.POSITIVE_INFINITY) {
  let running = 0;
  const generate = chatGeneration(modelId, chunkDelayMs);
  return async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if ((path === '/v1/chat/completions' || path === '/v1/completions') && req.method === 'POST') {
      if (running >= maxConcurrent) {
        req.resume();
        res.setHeader('retry-after', '1');
        return sendJson(res, 429, { error: { message: 'too many requests at once', type: 'rate_limit_error' } });
      }
      running++;
      res.once('close', () => running--);
    }
    return generate(req, res, path);
  };
}

function chatGeneration(modelId: string, chunkDelayMs: number) {
  return async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (path === '/v1/models') {
      return sendJson(res, 200, {
        object: 'list',
        data: [
          { id: modelId, object: 'model', created: 1767225600, owned_by: 'modelgate-examples', max_model_len: 256 },
        ],
      });
    }
    const chat = path === '/v1/chat/completions';
    if (!chat && path !== '/v1/completions') return false;
    if (req.method !== 'POST')
      return sendJson(res, 405, { error: { message: 'POST required', type: 'invalid_request_error' } });
    const body = ((await readJson(req)) ?? {}) as ChatBody;
    if (body.model !== undefined && body.model !== modelId) {
      return sendJson(res, 404, {
        error: { message: `model ${body.model} does not exist`, type: 'invalid_request_error' },
      });
    }
    const prompt = chat ? (body.messages ?? []).map((m) => m.content).join('\n') : (body.prompt ?? '');
    const tokens = generate(prompt, Math.min(body.max_tokens ?? 16, 64));
    const promptTokens = prompt.split(/\s+/).filter(Boolean).length;
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: tokens.length,
      total_tokens: promptTokens + tokens.length,
    };
    const id = `${chat ? 'chatcmpl' : 'cmpl'}-${tokens.length}${promptTokens}`;
    const created = 1767225600;
    const object = chat ? 'chat.completion' : 'text_completion';
    if (!body.stream) {
      const text = tokens.join('');
      const choice = chat
        ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }
        : { index: 0, text, finish_reason: 'stop' };
      return sendJson(res, 200, { id, object, created, model: modelId, choices: [choice], usage });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const event = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    const chunkObject = chat ? 'chat.completion.chunk' : 'text_completion';
    for (const [i, token] of tokens.entries()) {
      const choice = chat
        ? { index: 0, delta: i === 0 ? { role: 'assistant', content: token } : { content: token }, finish_reason: null }
        : { index: 0, text: token, finish_reason: null };
      event({ id, object: chunkObject, created, model: modelId, choices: [choice] });
      await new Promise((r) => setTimeout(r, chunkDelayMs));
      if (res.destroyed) return;
    }
    const last = chat ? { index: 0, delta: {}, finish_reason: 'stop' } : { index: 0, text: '', finish_reason: 'stop' };
    event({ id, object: chunkObject, created, model: modelId, choices: [last] });
    if (body.stream_options?.include_usage)
      event({ id, object: chunkObject, created, model: modelId, choices: [], usage });
    res.end('data: [DONE]\n\n');
  };
}

if (import.meta.main) {
  const port = Number(process.env.PORT ?? 9102);
  const { port: bound } = await startServer(chatHandler(process.env.MODEL_ID ?? 'tiny-chat'), port);
  process.stdout.write(`OpenAI-compatible chat server on http://127.0.0.1:${bound}\n`);
}
