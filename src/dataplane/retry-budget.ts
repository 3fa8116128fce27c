/**
 * A retry budget in the style of Envoy's: retries in flight may not exceed `percent` of the requests in flight
 * (with a floor, so a quiet cluster can still retry). It stops retry storms from multiplying load on a sick model.
 */
export class RetryBudget {
  active = 0;
  retrying = 0;
  readonly minConcurrency: number;
  constructor(minConcurrency = 3) {
    this.minConcurrency = minConcurrency;
  }

  /** Whether one more retry may start now. */
  allows(percent: number): boolean {
    return this.retrying < Math.max(this.minConcurrency, (this.active * percent) / 100);
  }
}
