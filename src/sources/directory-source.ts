/** The file source: a configuration directory, read whole on every change (see load-directory.ts). */
import type { ResourceSource, SourceLoad } from '../runtime/resource-source.ts';
import { DirectoryWatcher } from './directory-watcher.ts';
import { loadDirectory } from './load-directory.ts';

/** A directory of YAML/JSON files. */
export class DirectorySource implements ResourceSource {
  readonly description: string;
  readonly synced = true;
  readonly #dir: string;
  readonly #watchOptions: { debounceMs?: number; pollMs?: number } | false;
  #watcher: DirectoryWatcher | undefined;

  /** `watch: false` never watches (tests reload by hand). */
  constructor(dir: string, watch: { debounceMs?: number; pollMs?: number } | false) {
    this.#dir = dir;
    this.description = dir;
    this.#watchOptions = watch;
  }

  load(): Promise<SourceLoad> {
    return loadDirectory(this.#dir);
  }

  async watch(onChange: () => void): Promise<void> {
    if (this.#watchOptions === false || this.#watcher) return;
    this.#watcher = new DirectoryWatcher(this.#dir, onChange, this.#watchOptions);
  }

  async close(): Promise<void> {
    this.#watcher?.close();
  }
}
