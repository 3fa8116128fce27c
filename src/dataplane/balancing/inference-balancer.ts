/**
 * Inference-aware balancing: every available endpoint is scored and the best one taken. The scorers, each 0–1 and
 * weighted (the Gateway API Inference Extension's endpoint-picker scorers, inside the gateway):
 *
 * - queue: requests at the server (waiting + running, from its metrics), plus the change of this gateway's in-flight
 *   count there since that scrape, so requests sent between two scrapes count at once; min–max normalised, fewest best;
 * - kvCache: 1 − the server's KV-cache use;
 * - inflight: this gateway's own requests in flight there, min–max normalised;
 * - prefix: the share of the prompt's leading blocks recently sent there (PrefixIndex), withheld from an endpoint whose
 *   load is above `loadBound` × the average (plus one request), so a hot prefix spreads instead of piling up.
 *
 * Metrics older than `staleMs` (or none yet) are not used: the endpoint's queue is its in-flight count from this
 * gateway and its KV cache is unknown (scored as the candidates' average). Ties go to a rotating first candidate.
 */
import type { InferenceBalancingConfig } from '../../snapshot/types.ts';
import type { Balancer } from '../balancer.ts';
import type { Endpoint } from '../endpoint.ts';
import { PrefixIndex } from './prefix-index.ts';
import { promptBlocksOf } from './prompt-blocks.ts';

export class InferenceAwareBalancer implements Balancer {
  readonly endpoints: readonly Endpoint[];
  readonly config: InferenceBalancingConfig;
  readonly prefixes: PrefixIndex;
  /** Reused per pick (no allocation on the hot path). */
  readonly #matched: Int32Array;
  readonly #queue: Float64Array;
  readonly #kv: Float64Array;
  readonly #candidate: Uint8Array;
  #rotation = 0;

  constructor(endpoints: readonly Endpoint[], config: InferenceBalancingConfig) {
    this.endpoints = endpoints;
    this.config = config;
    this.prefixes = new PrefixIndex(config.prefix.capacity);
    const n = endpoints.length;
    this.#matched = new Int32Array(n);
    this.#queue = new Float64Array(n);
    this.#kv = new Float64Array(n);
    this.#candidate = new Uint8Array(n);
  }

  /** Whether a request's body is read before it is sent (for its prompt's prefix). */
  get readsPrompt(): boolean {
    return this.config.weights.prefix > 0;
  }

  /** The prompt key of a request body (see prompt-blocks.ts), or undefined. */
  promptOf(body: Buffer): Uint32Array | undefined {
    if (!this.readsPrompt) return undefined;
    const blocks = promptBlocksOf(body, this.config.prefix.blockSize, this.config.prefix.maxBlocks);
    return blocks !== undefined && blocks.length > 0 ? blocks : undefined;
  }

  pick(now: number, exclude?: ReadonlySet<Endpoint>, prompt?: Uint32Array): Endpoint | undefined {
    const eps = this.endpoints;
    const n = eps.length;
    const { weights, prefix } = this.config;
    const staleMs = this.config.metrics?.staleMs ?? 0;
    const queue = this.#queue;
    const kv = this.#kv;
    const candidate = this.#candidate;
    let count = 0;
    let qMin = Number.POSITIVE_INFINITY;
    let qMax = Number.NEGATIVE_INFINITY;
    let aMin = Number.POSITIVE_INFINITY;
    let aMax = Number.NEGATIVE_INFINITY;
    let qSum = 0;
    let kvSum = 0;
    let kvKnown = 0;
    let last = -1;
    for (let i = 0; i < n; i++) {
      const ep = eps[i]!;
      if (!ep.available(now) || exclude?.has(ep)) {
        candidate[i] = 0;
        continue;
      }
      candidate[i] = 1;
      count++;
      last = i;
      const r = ep.reported;
      let q: number;
      if (r !== undefined && now - r.at <= staleMs) {
        q = Math.max(0, r.waiting + r.running + ep.active - r.activeAtScrape);
        kv[i] = r.kvCache;
        if (!Number.isNaN(r.kvCache)) {
          kvSum += r.kvCache;
          kvKnown++;
        }
      } else {
        q = ep.active;
        kv[i] = Number.NaN;
      }
      queue[i] = q;
      qSum += q;
      if (q < qMin) qMin = q;
      if (q > qMax) qMax = q;
      if (ep.active < aMin) aMin = ep.active;
      if (ep.active > aMax) aMax = ep.active;
    }
    if (count <= 1) {
      const only = count === 1 ? eps[last] : undefined;
      if (only && prompt) this.prefixes.record(prompt, last);
      return only;
    }
    const matched = this.#matched;
    matched.fill(0);
    const usePrefix = prompt !== undefined && weights.prefix > 0;
    if (usePrefix) this.prefixes.match(prompt, matched);
    const kvAverage = kvKnown > 0 ? kvSum / kvKnown : 0.5;
    const bound = prefix.loadBound * (qSum / count) + 1;
    const qSpan = qMax - qMin;
    const aSpan = aMax - aMin;
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    const start = this.#rotation++ % n;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      if (candidate[i] === 0) continue;
      const ep = eps[i]!;
      let score = 0;
      if (weights.queue > 0) score += weights.queue * (qSpan > 0 ? (qMax - queue[i]!) / qSpan : 1);
      if (weights.kvCache > 0) score += weights.kvCache * (1 - (Number.isNaN(kv[i]!) ? kvAverage : kv[i]!));
      if (weights.inflight > 0) score += weights.inflight * (aSpan > 0 ? (aMax - ep.active) / aSpan : 1);
      if (usePrefix && matched[i]! > 0 && queue[i]! <= bound) score += (weights.prefix * matched[i]!) / prompt.length;
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    if (prompt) this.prefixes.record(prompt, best);
    return eps[best];
  }
}
