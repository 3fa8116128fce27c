/**
 * Hands memory back to the operating system after the configuration shrinks.
 *
 * Why this is needed: V8 does not unmap the pages of its heap when the objects on them die; a full collection puts
 * them in a pool for the next growth, and only a *memory-reducing* collection releases the pool. V8 schedules one of
 * those itself only when it sees a low allocation rate, which a gateway under traffic never shows — and an idle
 * gateway does not collect at all. Measured (bench/robustness.ts): after a 10 MB configuration was removed the live
 * heap was back at ~30 MB, the committed heap at ~36 MB, and 1,445 pooled 256 KiB pages (≈ 360 MB) stayed resident
 * for as long as the process ran.
 *
 * What it does: a few seconds after the last reload (so a burst of saves costs one check), if the heap's committed
 * high-water mark is more than 64 MiB above its floor (its size at start, or after the last release), one full
 * collection finds what is live; when that is less than half of the high-water mark, a last-resort collection (V8's
 * low-memory notification: it compacts and releases the pooled pages) returns the rest. Both run only after a reload
 * — the reload itself blocks for longer (compiling a 10 MB configuration takes seconds) — and never on the request
 * path. A configuration that stays large keeps its memory (each settled reload then costs one full collection, which
 * V8 would soon run anyway for the snapshot the reload replaced): memory follows the configuration.
 *
 * `gc` is V8's own extension; it is enabled at run time for a fresh context when the process was not started with
 * `--expose-gc`, so the gateway's global scope is not changed.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFunction = (options?: {
  type?: 'major' | 'minor';
  execution?: 'sync' | 'async';
  flavor?: 'regular' | 'last-resort';
}) => void;

let collector: GcFunction | undefined;

function gc(): GcFunction {
  if (collector) return collector;
  const exposed = (globalThis as { gc?: GcFunction }).gc;
  if (!exposed) setFlagsFromString('--expose-gc');
  collector = exposed ?? (runInNewContext('gc') as GcFunction);
  return collector;
}

/** How long after the last reload the check runs: a burst of saves costs one check. */
const SETTLE_MS = 3000;
/** Growth of the committed heap above its floor below which nothing is looked at. */
const GROWTH_BYTES = 64 * 1024 * 1024;

/** What one check found and did (for the log). */
export interface MemoryReturnOutcome {
  readonly highWaterBytes: number;
  readonly liveBytes: number;
  /** Whether the pooled pages were released. */
  readonly released: boolean;
}

export class MemoryReturn {
  #timer: NodeJS.Timeout | undefined;
  /** Committed heap at start or after the last release: what growth is measured against. */
  #floorBytes = getHeapStatistics().total_heap_size;
  /** Largest committed heap seen since then (sampled at reloads; pooled pages are not counted as committed). */
  #highWaterBytes = this.#floorBytes;
  readonly #onCheck: (outcome: MemoryReturnOutcome) => void;

  constructor(onCheck: (outcome: MemoryReturnOutcome) => void) {
    this.#onCheck = onCheck;
  }

  /** Called when a reload applied (or was refused): the heap is sampled now and checked once reloads settle. */
  reloaded(): void {
    this.#sample();
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#check(), SETTLE_MS);
    this.#timer.unref();
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    this.#timer = undefined;
    this.#sample();
    if (this.#highWaterBytes - this.#floorBytes < GROWTH_BYTES) return;
    const collect = gc();
    collect({ type: 'major', execution: 'sync' });
    const liveBytes = getHeapStatistics().used_heap_size;
    const highWaterBytes = this.#highWaterBytes;
    const released = liveBytes < highWaterBytes / 2;
    if (released) {
      collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
      this.#floorBytes = getHeapStatistics().total_heap_size;
      this.#highWaterBytes = this.#floorBytes;
    }
    this.#onCheck({ highWaterBytes, liveBytes, released });
  }

  #sample(): void {
    this.#highWaterBytes = Math.max(this.#highWaterBytes, getHeapStatistics().total_heap_size);
  }
}
