/**
 * The document worker's lifecycle: an idle worker is ended (its heap returned to the system) and the next job starts
 * a fresh one; jobs queued meanwhile all run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DocumentProcessor } from '../../src/runtime/document-processor.ts';
import { eventually } from '../helpers/gateway.ts';

const fetched = (document: unknown) => ({
  op: 'fetched' as const,
  kind: 'openapi' as const,
  bytes: new TextEncoder().encode(JSON.stringify(document)),
  contentType: 'application/json',
});

const DOC = { openapi: '3.1.0', info: { title: 'm', version: '1' }, paths: {} };

describe('document processor', () => {
  it('ends an idle worker and starts a new one for the next job', async () => {
    const processor = new DocumentProcessor({ idleMs: 30 });
    try {
      assert.equal(processor.workerRunning, false, 'no worker before the first job');
      assert.equal((await processor.run(fetched(DOC))).ok, true);
      assert.equal(processor.workerRunning, true);
      await eventually(() => !processor.workerRunning);
      const outcomes = await Promise.all(
        [1, 2, 3].map((v) => processor.run(fetched({ ...DOC, info: { title: 'm', version: String(v) } }))),
      );
      assert.deepEqual(
        outcomes.map((o) => (o.ok ? (o.body as { info: { version: string } }).info.version : o.error)),
        ['1', '2', '3'],
      );
      assert.equal(processor.workerRunning, true);
    } finally {
      await processor.close();
    }
    assert.equal(processor.workerRunning, false);
  });

  it('ends a worker at once when a job left its heap large, and only when no job waits', async () => {
    // Any worker's heap is above 1 MiB: every job counts as large here.
    const processor = new DocumentProcessor({ idleMs: 60_000, retireHeapMb: 1 });
    try {
      assert.equal((await processor.run(fetched(DOC))).ok, true);
      assert.equal(processor.workerRunning, false, 'ended as soon as its queue was empty');
      const seen: boolean[] = [];
      await Promise.all(
        [1, 2].map((v) =>
          processor.run(fetched({ ...DOC, info: { title: 'm', version: String(v) } })).then((o) => {
            seen.push(o.ok);
            if (seen.length === 1) assert.equal(processor.workerRunning, true, 'not ended while a job waits');
          }),
        ),
      );
      assert.deepEqual(seen, [true, true]);
      assert.equal(processor.workerRunning, false);
    } finally {
      await processor.close();
    }
  });

  it('keeps a busy worker: a job arriving before the idle time runs on the same one', async () => {
    const processor = new DocumentProcessor({ idleMs: 60_000, retireHeapMb: 1024 });
    try {
      await processor.run(fetched(DOC));
      assert.equal(processor.workerRunning, true);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(processor.workerRunning, true);
    } finally {
      await processor.close();
    }
  });
});
