/**
 * A plain REST model service that publishes its own OpenAPI 3.1 document, like a FastAPI or BentoML app:
 * POST /predict scores the sentiment of a text with a small lexicon model; GET /openapi.json describes it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJson, sendJson, startServer } from './http-util.ts';

const LEXICON: Record<string, number> = {
  good: 1,
  great: 2,
  excellent: 3,
  love: 2,
  like: 1,
  fast: 1,
  happy: 2,
  helpful: 2,
  bad: -1,
  terrible: -3,
  hate: -2,
  slow: -1,
  broken: -2,
  sad: -2,
  awful: -3,
  wrong: -1,
};

/** Scores a text: label and a score in [-1, 1]. */
export function scoreSentiment(text: string): { label: 'positive' | 'negative' | 'neutral'; score: number } {
  const tokens = text.toLowerCase().match(/[a-z']+/g) ?? [];
  const raw = tokens.reduce((sum, t) => sum + (LEXICON[t] ?? 0), 0);
  const score = Math.max(-1, Math.min(1, raw / 4));
  return {
    label: score > 0.1 ? 'positive' : score < -0.1 ? 'negative' : 'neutral',
    score: Math.round(score * 100) / 100,
  };
}

export const SENTIMENT_OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'Sentiment model', version: '1.2.0', description: 'Lexicon-based sentiment scoring.' },
  servers: [{ url: '.' }],
  paths: {
    '/predict': {
      post: {
        operationId: 'predict',
        summary: 'Score the sentiment of a text',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/PredictRequest' } } },
        },
        responses: {
          '200': {
            description: 'The sentiment',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/PredictResponse' } } },
          },
          '400': { description: 'Invalid input' },
        },
      },
    },
    '/health': { get: { operationId: 'health', summary: 'Liveness', responses: { '200': { description: 'Alive' } } } },
  },
  components: {
    schemas: {
      PredictRequest: {
        type: 'object',
        required: ['text'],
        properties: { text: { type: 'string', minLength: 1, maxLength: 10000, examples: ['I love this fast model'] } },
      },
      PredictResponse: {
        type: 'object',
        required: ['label', 'score'],
        properties: {
          label: { type: 'string', enum: ['positive', 'negative', 'neutral'] },
          score: { type: 'number', minimum: -1, maximum: 1 },
        },
      },
    },
  },
};

/** Creates the REST handler. */
export function sentimentHandler() {
  return async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (path === '/openapi.json') return sendJson(res, 200, SENTIMENT_OPENAPI);
    if (path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (path !== '/predict') return false;
    if (req.method !== 'POST') return sendJson(res, 405, { detail: 'POST required' });
    const body = (await readJson(req)) as { text?: unknown } | null;
    if (typeof body?.text !== 'string' || body.text.length === 0)
      return sendJson(res, 400, { detail: 'text is required' });
    return sendJson(res, 200, scoreSentiment(body.text));
  };
}

if (import.meta.main) {
  const port = Number(process.env.PORT ?? 9103);
  const { port: bound } = await startServer(sentimentHandler(), port);
  process.stdout.write(`sentiment REST server on http://127.0.0.1:${bound}\n`);
}
