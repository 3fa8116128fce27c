/**
 * Runs document jobs in one worker thread, one at a time, each within a time limit, with a memory limit on the worker:
 * a document that takes too long or too much is refused (its last good copy stays), and the worker is replaced.
 * The worker starts on the first job and does not keep the process alive.
 *
 * A worker is ended when its queue is empty and either it sat idle for `idleMs` or the last job left its heap above
 * `retireHeapMb`: V8 keeps the pages a heap grew into, so a worker that once parsed a 9 MB document or rendered the
 * documents of a 10 MB configuration would hold a few hundred MB of resident memory until the process exits (the
 * benchmark measured it: RSS never came down after a large configuration was removed). Ending it hands them back; the
 * next job starts a fresh worker in a few tens of milliseconds, off the event loop. Revision jobs resend what a new
 * worker does not know (changes/revisions.ts).
 */
import { Worker } from 'node:worker_threads';
import type { RevisionJob } from '../changes/revision-work.ts';
import type { PublishJob } from '../docsplane/published.ts';
import type { DocumentJob, DocumentOutcome } from '../sources/upstream-documents/fetched-document.ts';

/** Every kind of job the worker runs: fetched documents (sources), publication (docs plane), revisions (changes). */
export type WorkerJob = DocumentJob | PublishJob | RevisionJob;

export interface DocumentProcessorOptions {
  /** Longest a job may run (default 30 s). */
  readonly timeoutMs?: number;
  /** Heap of the worker (default 1024 MiB): a document needing more is refused, not the gateway's memory. */
  readonly maxHeapMb?: number;
  /** How long the worker may sit idle before it is ended and its memory returned (default 5 s). */
  readonly idleMs?: number;
  /** A worker whose heap a job left larger than this is ended as soon as no job waits (default 128 MiB). */
  readonly retireHeapMb?: number;
}

interface Pending {
  readonly id: number;
  readonly job: WorkerJob;
  readonly resolve: (outcome: DocumentOutcome) => void;
}

const WORKER_URL = new URL(`./document-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

export class DocumentProcessor {
  readonly #timeoutMs: number;
  readonly #maxHeapMb: number;
  readonly #idleMs: number;
  readonly #retireHeapBytes: number;
  #lastHeapBytes = 0;
  readonly #queue: Pending[] = [];
  #worker: Worker | undefined;
  #current: Pending | undefined;
  #timer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #next = 1;
  #closed = false;

  constructor(options: DocumentProcessorOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxHeapMb = options.maxHeapMb ?? 1024;
    this.#idleMs = options.idleMs ?? 5000;
    this.#retireHeapBytes = (options.retireHeapMb ?? 128) * 1024 * 1024;
  }

  /** Whether a worker thread exists now (started by a job, ended when idle or replaced). */
  get workerRunning(): boolean {
    return this.#worker !== undefined;
  }

  /** Runs a job; never rejects. */
  run(job: WorkerJob): Promise<DocumentOutcome> {
    if (this.#closed) return Promise.resolve({ ok: false, error: 'the document processor is closed' });
    return new Promise((resolve) => {
      this.#queue.push({ id: this.#next++, job, resolve });
      this.#pump();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const p of this.#queue.splice(0)) p.resolve({ ok: false, error: 'the document processor is closed' });
    this.#finish({ ok: false, error: 'the document processor is closed' });
    clearTimeout(this.#idleTimer);
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #pump(): void {
    if (this.#current || this.#closed) return;
    const next = this.#queue.shift();
    if (!next) {
      if (this.#worker && this.#lastHeapBytes > this.#retireHeapBytes) this.#replace();
      else if (this.#worker) {
        this.#worker.unref();
        clearTimeout(this.#idleTimer);
        this.#idleTimer = setTimeout(() => this.#replace(), this.#idleMs);
        this.#idleTimer.unref();
      }
      return;
    }
    clearTimeout(this.#idleTimer);
    this.#current = next;
    const worker = this.#ensureWorker();
    worker.ref();
    this.#timer = setTimeout(() => {
      this.#finish({ ok: false, error: `processing the document took longer than ${this.#timeoutMs / 1000} s` });
      this.#replace();
    }, this.#timeoutMs);
    // A fetched body's memory moves to the worker instead of being copied (the caller does not use it afterwards).
    const transfer = next.job.op === 'fetched' ? [next.job.bytes.buffer as ArrayBuffer] : [];
    worker.postMessage({ id: next.id, job: next.job }, transfer);
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: this.#maxHeapMb } });
    worker.on('message', (message: { id: number; outcome: DocumentOutcome; heapBytes: number }) => {
      if (this.#current?.id !== message.id) return;
      this.#lastHeapBytes = message.heapBytes;
      this.#finish(message.outcome);
    });
    const lost = (why: string) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#finish({ ok: false, error: why });
    };
    worker.on('error', (err) =>
      lost(
        /heap|memory/i.test(err.message)
          ? `the document needs more than ${this.#maxHeapMb} MiB to process`
          : `the document processor failed: ${err.message}`,
      ),
    );
    worker.on('exit', () => lost('the document processor stopped'));
    this.#worker = worker;
    return worker;
  }

  #replace(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#lastHeapBytes = 0;
    void worker?.terminate();
  }

  #finish(outcome: DocumentOutcome): void {
    const current = this.#current;
    if (!current) return;
    this.#current = undefined;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    current.resolve(outcome);
    this.#pump();
  }
}
