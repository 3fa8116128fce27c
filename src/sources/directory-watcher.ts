/**
 * Tells when anything below a directory may have changed. Level-triggered: it carries no detail, the caller rereads
 * the whole directory. Bursts are coalesced into one call.
 *
 * It watches every (non-hidden) directory of the tree with a plain, non-recursive `fs.watch`: on Linux that is one
 * inotify watch per directory, which reports every kind of save of a file inside it — written in place, truncated and
 * rewritten, replaced by a rename (editors' atomic save), deleted — and the swap of a symlink (a Kubernetes ConfigMap
 * volume updates by pointing `..data` at a new directory). Node's recursive mode keeps a watch on each file's inode
 * instead, and loses a file once it has been replaced by a rename. New directories are watched when they appear; a
 * slow poll backs everything up for file systems where events go missing.
 */
import { type FSWatcher, watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Watches dir and calls onChange (debounced) until closed. */
export class DirectoryWatcher {
  readonly #watchers = new Map<string, FSWatcher>();
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #closed = false;
  #scanning: Promise<void> | undefined;
  readonly #dir: string;
  readonly #onChange: () => void;
  readonly #debounceMs: number;

  constructor(dir: string, onChange: () => void, options: { debounceMs?: number; pollMs?: number } = {}) {
    this.#dir = dir;
    this.#onChange = onChange;
    this.#debounceMs = options.debounceMs ?? 50;
    void this.#scan();
    const pollMs = options.pollMs ?? 5000;
    if (pollMs > 0) {
      this.#poll = setInterval(() => this.#fire(), pollMs);
      this.#poll.unref();
    }
  }

  /** Resolves once every directory present now is watched (tests; the first scan runs from the constructor). */
  ready(): Promise<void> {
    return this.#scanning ?? Promise.resolve();
  }

  /** Watches the directories of the tree that are not watched yet, and forgets those that are gone. */
  #scan(): Promise<void> {
    this.#scanning ??= (async () => {
      const dirs = new Set([this.#dir]);
      try {
        for (const e of await readdir(this.#dir, { recursive: true, withFileTypes: true })) {
          if (!e.isDirectory()) continue;
          const path = join(e.parentPath, e.name);
          // Hidden directories are never configuration (a ConfigMap's `..2026_…` data lives there and changes
          // through the `..data` symlink in the watched directory above it).
          if (
            relative(this.#dir, path)
              .split('/')
              .some((p) => p.startsWith('.'))
          )
            continue;
          dirs.add(path);
        }
      } catch {
        // The directory is gone or unreadable: the reload says so; the poll keeps looking.
      }
      if (this.#closed) return;
      for (const [path, w] of this.#watchers)
        if (!dirs.has(path)) {
          w.close();
          this.#watchers.delete(path);
        }
      for (const path of dirs) if (!this.#watchers.has(path)) this.#watch(path);
    })().finally(() => {
      this.#scanning = undefined;
    });
    return this.#scanning;
  }

  #watch(path: string): void {
    try {
      const w = watch(path, (event) => {
        // A new or removed entry may be a directory to watch or forget.
        if (event === 'rename') void this.#scan();
        this.#schedule();
      });
      w.on('error', () => {
        // The directory itself went away or was replaced: forget it; the next scan finds what is there now.
        w.close();
        this.#watchers.delete(path);
        this.#schedule();
      });
      this.#watchers.set(path, w);
    } catch {
      // Vanished between the listing and the watch: the next scan decides.
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.#fire(), this.#debounceMs);
  }

  #fire(): void {
    this.#debounce = undefined;
    if (this.#closed) return;
    if (!this.#watchers.has(this.#dir)) void this.#scan();
    this.#onChange();
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    if (this.#debounce) clearTimeout(this.#debounce);
    if (this.#poll) clearInterval(this.#poll);
  }
}
