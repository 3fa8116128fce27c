/**
 * Where recent prompt prefixes went: block hash → the endpoints (by position in the cluster) that were sent a prompt
 * with that block, least recently used forgotten first. An estimate of each server's prefix cache from the gateway's
 * own routing decisions (the Gateway API Inference Extension's "estimation mode"): no server is asked, so it costs a
 * few map look-ups per block and works with any OpenAI-compatible server.
 */

/** Endpoints remembered per block: enough for a prefix that went to a few replicas over time. */
const PER_BLOCK = 4;

export class PrefixIndex {
  /** Map insertion order is the LRU order: a touched block is deleted and set again (moves to the end). */
  readonly #blocks = new Map<number, number[]>();
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#blocks.size;
  }

  /**
   * For each endpoint position, how many of the prompt's leading blocks it was sent in a row (into `matched`, which
   * must be zeroed and as long as the cluster). Stops at the first block no candidate holds.
   */
  match(hashes: Uint32Array, matched: Int32Array): void {
    for (let j = 0; j < hashes.length; j++) {
      const holders = this.#blocks.get(hashes[j]!);
      if (holders === undefined) return;
      let advanced = false;
      for (const pos of holders) {
        if (matched[pos] === j) {
          matched[pos] = j + 1;
          advanced = true;
        }
      }
      if (!advanced) return;
    }
  }

  /** Remembers that `pos` was sent a prompt with these blocks. */
  record(hashes: Uint32Array, pos: number): void {
    const blocks = this.#blocks;
    for (let j = 0; j < hashes.length; j++) {
      const h = hashes[j]!;
      const holders = blocks.get(h);
      if (holders === undefined) {
        blocks.set(h, [pos]);
      } else {
        blocks.delete(h);
        blocks.set(h, holders);
        const at = holders.indexOf(pos);
        if (at >= 0) holders.splice(at, 1);
        else if (holders.length >= PER_BLOCK) holders.shift();
        holders.push(pos);
      }
    }
    if (blocks.size > this.capacity) {
      let excess = blocks.size - this.capacity;
      for (const h of blocks.keys()) {
        blocks.delete(h);
        if (--excess === 0) break;
      }
    }
  }
}
