/**
 * The cache phase: GET and POST answers are looked up by a key over the version, the request and the configured
 * headers; a hit is answered from the store, identical requests arriving while the first is with the model wait for
 * its answer, and a miss leads the store of the answer (a tap). `Cache-Control: no-cache` refreshes, `no-store`
 * bypasses.
 */
import type { ServerResponse } from 'node:http';
import { ANSWERED, type BodyPhase, NEXT } from '../phase.ts';
import { type CachedResponse, cacheKey, requestCacheMode } from './response-cache.ts';

export const cachePhase: BodyPhase = {
  name: 'cache',
  applies: (action) => action.cache !== undefined,
  async run(ctx, exchange, services) {
    const method = exchange.send.method;
    if (method !== 'GET' && method !== 'POST') return NEXT;
    const { res } = ctx;
    const policy = ctx.action.cache!;
    const api = ctx.rule.labels.api;
    const lookups = services.metrics.cacheLookups;
    const mode = requestCacheMode(ctx.header('cache-control'));
    if (mode === 'bypass') {
      lookups.labels(api, 'bypass').inc();
      res.setHeader('x-cache', 'MISS');
      return NEXT;
    }
    const key = cacheKey(policy, {
      version: exchange.version,
      method,
      path: ctx.path,
      query: ctx.query,
      contentType: exchange.contentType,
      body: exchange.original,
      header: ctx.header,
    });
    const cache = services.cache;
    if (mode === 'use') {
      let entry = await cache.get(policy, key);
      let result = 'hit';
      const pending = entry ? undefined : cache.pending(key);
      if (pending) {
        entry = await pending;
        result = 'coalesced';
      }
      if (entry && !res.destroyed) {
        lookups.labels(api, result).inc();
        serveCached(res, entry, ctx.requestId);
        services.metrics.observeRequest(api, exchange.version, entry.status, (performance.now() - ctx.started) / 1000);
        return ANSWERED;
      }
    }
    lookups.labels(api, 'miss').inc();
    res.setHeader('x-cache', 'MISS');
    // The first of identical requests asks the model; the ones arriving meanwhile wait for its answer.
    if (!cache.pending(key)) exchange.taps.push(cache.lead(policy, key));
    return NEXT;
  },
};

/** Answers from the cache: the stored answer with this exchange's request id and its age. */
function serveCached(res: ServerResponse, entry: CachedResponse, requestId: string): void {
  res.writeHead(entry.status, {
    ...entry.headers,
    'x-request-id': requestId,
    'x-cache': 'HIT',
    age: String(Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000))),
    'content-length': String(entry.body.length),
  });
  res.end(entry.body);
}
