/**
 * Tells when anything below a directory may have changed. Level-triggered: it carries no detail, the caller rereads
 * the whole directory. fs.watch catches edits, creations, deletions and editors' save-by-rename; a slow poll backs it
 * up for file systems where inotify events go missing. Bursts are coalesced into one call.
 */
import { type FSWatcher, watch } from 'node:fs';

/** Watches dir and calls onChange (debounced) until closed. */
export class DirectoryWatcher {
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  readonly #dir: string;
  readonly #onChange: () => void;
  readonly #debounceMs: number;

  constructor(dir: string, onChange: () => void, options: { debounceMs?: number; pollMs?: number } = {}) {
    this.#dir = dir;
    this.#onChange = onChange;
    this.#debounceMs = options.debounceMs ?? 75;
    this.#start();
    const pollMs = options.pollMs ?? 5000;
    if (pollMs > 0) {
      this.#poll = setInterval(() => this.#fire(), pollMs);
      this.#poll.unref();
    }
  }

  #start(): void {
    try {
      this.#watcher = watch(this.#dir, { recursive: true }, () => this.#schedule());
      this.#watcher.on('error', () => {
        // The directory itself went away or was replaced: re-arm and let the reload report what is missing.
        this.#watcher?.close();
        this.#watcher = undefined;
        this.#schedule();
      });
    } catch {
      this.#watcher = undefined;
    }
  }

  #schedule(): void {
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.#fire(), this.#debounceMs);
  }

  #fire(): void {
    this.#debounce = undefined;
    if (!this.#watcher) this.#start();
    this.#onChange();
  }

  close(): void {
    this.#watcher?.close();
    if (this.#debounce) clearTimeout(this.#debounce);
    if (this.#poll) clearInterval(this.#poll);
  }
}
