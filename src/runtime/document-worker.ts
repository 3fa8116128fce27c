/**
 * The document worker: a worker thread that parses, checks and normalises fetched documents (document-work.ts) and
 * hashes and diffs new revisions (changes/revision-work.ts), so that a 10 MB upstream document never holds the event
 * loop that serves traffic. Started by DocumentProcessor.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { processRevision } from '../changes/revision-work.ts';
import { runPublishJob } from '../docsplane/published.ts';
import { processDocument } from '../sources/upstream-documents/fetched-document.ts';
import type { WorkerJob } from './document-processor.ts';

parentPort?.on('message', async (message: { id: number; job: WorkerJob }) => {
  let outcome: unknown;
  try {
    const job = message.job;
    outcome =
      job.op === 'revision'
        ? { ok: true, body: processRevision(job) }
        : job.op === 'publish'
          ? runPublishJob(job)
          : await processDocument(job);
  } catch (err) {
    outcome = {
      ok: false,
      error: err instanceof RangeError ? 'the document nests too deeply' : (err as Error).message,
    };
  }
  // The heap it grew into: the processor ends a worker whose heap a large job left big (see document-processor.ts).
  const heapBytes = getHeapStatistics().total_heap_size;
  try {
    parentPort?.postMessage({ id: message.id, outcome, heapBytes });
  } catch (err) {
    parentPort?.postMessage({
      id: message.id,
      outcome: { ok: false, error: `cannot hand the document over: ${(err as Error).message}` },
      heapBytes,
    });
  }
});
