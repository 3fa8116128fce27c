/**
 * The span processor of the data plane's tracer: ended spans leave the event loop at once, packed (span-packing.ts)
 * and posted in small batches to the export worker, where the OpenTelemetry SDK's batch processor and OTLP exporter
 * encode and send them.
 *
 * Why a thread: measured in the benchmark (200 B POST, 64 connections, every request recorded), encoding and sending
 * on the event loop cost a tenth of the gateway's throughput, and the SDK's batch processor holding 512 spans until an
 * export made them outlive the young generation (promoted, then marked and compacted: more garbage-collection time
 * than the spans' creation). Here a span is packed when it ends and dropped; what the worker keeps is its own heap's.
 *
 * Bounded: at most `maxQueuedSpans` spans are on their way to the worker (posted and not yet taken up); more are
 * dropped and counted, as the SDK's batch processor drops past its queue, and a warning says how many.
 */
import { Worker } from 'node:worker_threads';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TracingSettings } from '../../snapshot/types.ts';
import { type Packed, pack } from './span-packing.ts';

const WORKER_URL = new URL(`./export-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

/** Spans per message to the worker: small enough to leave the heap young, large enough that posting is rare. */
const SPANS_PER_MESSAGE = 64;
/** The longest a span waits for its message to fill (a quiet gateway still exports promptly). */
const POST_DELAY_MS = 100;

/** What the worker is told. */
export type ToWorker =
  | { readonly kind: 'spans'; readonly count: number; readonly cells: Packed[] }
  | { readonly kind: 'flush' | 'shutdown'; readonly id: number };

/** What the worker answers. */
export type FromWorker =
  | { readonly kind: 'taken'; readonly count: number }
  | { readonly kind: 'done'; readonly id: number; readonly error?: string };

/** Settings the worker starts with (the export headers are secrets: they stay in memory). */
export interface ExportWorkerData {
  readonly otlpEndpoint: string;
  readonly protocol: TracingSettings['protocol'];
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
}

export class SpanHandOff implements SpanProcessor {
  readonly #data: ExportWorkerData;
  readonly #maxQueuedSpans: number;
  readonly #warn: (message: string) => void;
  #worker: Worker | undefined;
  #cells: Packed[] = [];
  #count = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Spans posted and not yet taken up by the worker. */
  #queued = 0;
  #dropped = 0;
  #nextId = 0;
  readonly #waiting = new Map<number, (error?: string) => void>();
  #closed = false;

  constructor(settings: TracingSettings, warn: (message: string) => void, maxQueuedSpans = 2048) {
    this.#data = {
      otlpEndpoint: settings.otlpEndpoint,
      protocol: settings.protocol,
      headers: { ...settings.headers },
      serviceName: settings.serviceName,
    };
    this.#maxQueuedSpans = maxQueuedSpans;
    this.#warn = warn;
  }

  onStart(_span: Span, _context: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.#closed) return;
    if (this.#queued + this.#count >= this.#maxQueuedSpans) {
      if (this.#dropped++ === 0) this.#warn('tracing: the span exporter is behind; dropping spans');
      return;
    }
    pack(this.#cells, span);
    if (++this.#count >= SPANS_PER_MESSAGE) this.#post();
    else this.#timer ??= setTimeout(() => this.#post(), POST_DELAY_MS).unref();
  }

  /** Everything ended so far is exported (or has failed to be) when this resolves. */
  async forceFlush(): Promise<void> {
    this.#post();
    if (this.#worker) await this.#ask('flush');
  }

  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#post();
    this.#closed = true;
    const worker = this.#worker;
    if (!worker) return;
    await this.#ask('shutdown').catch(() => {});
    await worker.terminate();
    this.#worker = undefined;
  }

  #post(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#count === 0) return;
    const message: ToWorker = { kind: 'spans', count: this.#count, cells: this.#cells };
    this.#queued += this.#count;
    this.#cells = [];
    this.#count = 0;
    this.#start().postMessage(message);
  }

  #ask(kind: 'flush' | 'shutdown'): Promise<void> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, (error) => (error ? reject(new Error(error)) : resolve()));
      this.#start().postMessage({ kind, id } satisfies ToWorker);
    });
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_URL, {
      workerData: this.#data,
      // Its heap holds at most the batch processor's queue and one export.
      resourceLimits: { maxOldGenerationSizeMb: 64 },
    });
    worker.unref();
    worker.on('message', (message: FromWorker) => {
      if (message.kind === 'taken') {
        this.#queued -= message.count;
        if (this.#dropped > 0 && this.#queued === 0) {
          this.#warn(`tracing: ${this.#dropped} spans were dropped while the span exporter was behind`);
          this.#dropped = 0;
        }
        return;
      }
      this.#waiting.get(message.id)?.(message.error);
      this.#waiting.delete(message.id);
    });
    worker.on('error', (error) => this.#warn(`tracing: the span export worker failed: ${error.message}`));
    worker.on('exit', () => {
      // Whatever it held is lost; a later span starts a new one.
      if (this.#worker === worker) this.#worker = undefined;
      this.#queued = 0;
      for (const settle of this.#waiting.values()) settle('the span export worker stopped');
      this.#waiting.clear();
    });
    this.#worker = worker;
    return worker;
  }
}
