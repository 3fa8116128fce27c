/** Load-balancing policies over the endpoints of one cluster. */
import type { Endpoint } from './endpoint.ts';

/** Picks an endpoint for the next attempt, skipping unavailable ones and those already tried. */
export interface Balancer {
  /** `prompt`: the request's prompt key from promptOf() (prefix affinity), when the balancer reads prompts. */
  pick(now: number, exclude?: ReadonlySet<Endpoint>, prompt?: Uint32Array): Endpoint | undefined;
  /** Whether the request body is read before the request is sent, for promptOf() (InferenceAware). */
  readonly readsPrompt?: boolean;
  promptOf?(body: Buffer): Uint32Array | undefined;
}

/** Round robin over available endpoints. */
export class RoundRobinBalancer implements Balancer {
  #cursor = 0;
  readonly endpoints: readonly Endpoint[];
  constructor(endpoints: readonly Endpoint[]) {
    this.endpoints = endpoints;
  }

  pick(now: number, exclude?: ReadonlySet<Endpoint>): Endpoint | undefined {
    const n = this.endpoints.length;
    for (let i = 0; i < n; i++) {
      const ep = this.endpoints[(this.#cursor + i) % n]!;
      if (ep.available(now) && !exclude?.has(ep)) {
        this.#cursor = (this.#cursor + i + 1) % n;
        return ep;
      }
    }
    return undefined;
  }
}

/**
 * Least request by the power of two choices: sample two available endpoints at random and take the one with fewer
 * requests in flight. Near-optimal load spreading at O(1) cost, without the herding of a global minimum.
 */
export class LeastRequestBalancer implements Balancer {
  readonly #scratch: Endpoint[] = [];
  readonly endpoints: readonly Endpoint[];
  readonly random: () => number;
  constructor(endpoints: readonly Endpoint[], random: () => number = Math.random) {
    this.endpoints = endpoints;
    this.random = random;
  }

  pick(now: number, exclude?: ReadonlySet<Endpoint>): Endpoint | undefined {
    const candidates = this.#scratch;
    candidates.length = 0;
    for (const ep of this.endpoints) if (ep.available(now) && !exclude?.has(ep)) candidates.push(ep);
    const n = candidates.length;
    if (n <= 1) return candidates[0];
    const a = candidates[Math.floor(this.random() * n)]!;
    let b = candidates[Math.floor(this.random() * (n - 1))]!;
    if (b === a) b = candidates[n - 1]!;
    return b.active < a.active ? b : a;
  }
}
