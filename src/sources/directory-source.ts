/**
 * The file source: a configuration directory, read whole on every change (see load-directory.ts).
 *
 * A change is applied only once the files it touched have settled. Editors and tools save in many ways — in place,
 * truncate-then-write, write-a-temporary-then-rename — and a read can land in the middle: an empty file, half a
 * document. So a file that changed since the last read and is now empty, broken, or was modified a moment ago is read
 * again a little later; the change is taken when two reads in a row agree (then an empty or broken file is what the
 * user meant, and is applied or reported as such).
 */

import { DirectoryWatcher } from './directory-watcher.ts';
import { type DirectoryLoad, type FileRead, loadDirectory } from './load-directory.ts';
import type { ResourceSource, SourceLoad } from './resource-source.ts';

/** How long to wait between two reads of a file that has not settled. */
const SETTLE_MS = 40;
/** At most this many extra reads (≈ 320 ms) before a change is taken as it is. */
const SETTLE_READS = 8;
/** A file modified less than this long before it was read may still be being written. */
const FRESH_MS = 30;

/** A directory of YAML/JSON files. */
export class DirectorySource implements ResourceSource {
  readonly description: string;
  readonly synced = true;
  readonly #dir: string;
  readonly #watchOptions: { debounceMs?: number; pollMs?: number } | false;
  #watcher: DirectoryWatcher | undefined;
  /** What each file read as when the last load was handed out. */
  #settled: ReadonlyMap<string, FileRead> = new Map();

  /** `watch: false` never watches (tests reload by hand). */
  constructor(dir: string, watch: { debounceMs?: number; pollMs?: number } | false) {
    this.#dir = dir;
    this.description = dir;
    this.#watchOptions = watch;
  }

  async load(): Promise<SourceLoad> {
    let load = await loadDirectory(this.#dir);
    for (let i = 0; i < SETTLE_READS; i++) {
      const unsettled = this.#unsettled(load);
      if (unsettled.length === 0) break;
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const again = await loadDirectory(this.#dir);
      const agree = unsettled.every((f) => again.files.get(f)?.digest === load.files.get(f)?.digest);
      load = again;
      if (agree && unsettled.every((f) => Date.now() - (again.files.get(f)?.mtimeMs ?? 0) >= FRESH_MS)) break;
    }
    this.#settled = load.files;
    return load;
  }

  /** Files that changed since the last load and may be caught mid-save. */
  #unsettled(load: DirectoryLoad): string[] {
    const now = Date.now();
    const out: string[] = [];
    for (const [file, read] of load.files) {
      const before = this.#settled.get(file);
      if (before?.digest === read.digest) continue;
      const emptied = read.size === 0 && (before?.size ?? 0) > 0;
      if (emptied || read.errors || now - read.mtimeMs < FRESH_MS) out.push(file);
    }
    return out;
  }

  async watch(onChange: () => void): Promise<void> {
    if (this.#watchOptions === false || this.#watcher) return;
    this.#watcher = new DirectoryWatcher(this.#dir, onChange, this.#watchOptions);
    await this.#watcher.ready();
  }

  async close(): Promise<void> {
    this.#watcher?.close();
  }
}
