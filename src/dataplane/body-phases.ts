/**
 * The phases that need the whole request body (validation, metering, token budget, cache — the phase table's order):
 * the body is read within the route's body limit and deadline, each phase looks at it (and may rewrite it or add a
 * response tap), then the request is forwarded with the body as a replayable Buffer. Counted in flight already; every
 * way out either forwards (whose end leaves) or answers and leaves itself.
 */
import type { ErrorName } from '../errors/catalog.ts';
import {
  type BodyExchange,
  type BodyPhase,
  NEXT,
  type PolicyContext,
  type PolicyServices,
  type Verdict,
} from '../policies/phase.ts';
import { closeAfterAnswer } from './client-connections.ts';
import { type ForwardRequest, forward } from './forward.ts';
import { setHeaderInList } from './headers.ts';
import { modelAliasTap } from './model-alias-tap.ts';
import { readRequestBody } from './request-body.ts';
import { combineTaps } from './response-taps.ts';

export async function runBodyPhases(
  ctx: PolicyContext,
  phases: readonly BodyPhase[],
  services: PolicyServices,
  stopped: (phase: string, verdict: Verdict) => void,
  send: ForwardRequest,
  version: string,
  mirrorBody?: (body: Buffer) => void,
): Promise<void> {
  const { req, res, fail, action, started } = ctx;
  const answer = (name: ErrorName, detail: string, extensions?: Record<string, unknown>) => {
    fail(name, detail, extensions);
    send.onDone();
  };
  try {
    const requestMs = action.timeouts.requestMs;
    // A body read before routing (the OpenAI endpoint) is held to this API's own limit like one read here.
    const read =
      ctx.body !== undefined
        ? ctx.body.length > action.maxRequestBodyBytes
          ? ({
              ok: false,
              error: 'tooLarge',
              detail: `request body exceeds the limit of ${action.maxRequestBodyBytes} bytes`,
            } as const)
          : ({ ok: true, body: ctx.body } as const)
        : await readRequestBody(req, action.maxRequestBodyBytes, requestMs > 0 ? started + requestMs : undefined);
    if (!read.ok) {
      if (read.error === 'aborted') {
        send.onDone();
        return;
      }
      if (read.error === 'timeout') {
        closeAfterAnswer(res); // the rest of the body never came
        answer('requestTimeout', read.detail);
        return;
      }
      if (read.error === 'tooLarge') closeAfterAnswer(res); // the rest of the body stays unread
      answer(read.error === 'tooLarge' ? 'payloadTooLarge' : 'malformedRequest', read.detail);
      return;
    }
    mirrorBody?.(read.body);
    const exchange: BodyExchange = {
      send,
      version,
      original: read.body,
      body: read.body,
      contentType: ctx.header('content-type'),
      taps: [],
      usageListeners: [],
    };
    for (const phase of phases) {
      let verdict = phase.run(ctx, exchange, services);
      if (typeof verdict !== 'number') verdict = await verdict;
      if (verdict !== NEXT) {
        stopped(phase.name, verdict);
        send.onDone();
        return;
      }
    }
    if (res.destroyed) {
      send.onDone();
      return;
    }
    const body = exchange.body;
    if (
      body !== read.body ||
      ctx.body !== undefined ||
      req.headers['content-length'] !== undefined ||
      body.length > 0
    ) {
      setHeaderInList(send.headers, 'content-length', String(body.length));
    }
    const taps = exchange.taps;
    // Last, so the cache keeps the upstream's bytes and only this client sees the alias it asked for.
    if (ctx.modelAlias) taps.push(modelAliasTap(ctx.modelAlias.upstream, ctx.modelAlias.alias));
    forward({ ...send, body, ...(taps.length > 0 ? { tap: combineTaps(taps) } : {}) });
  } catch (err) {
    answer('upstreamUnavailable', `a policy failed: ${(err as Error).message}`);
  }
}
