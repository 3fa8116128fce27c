/**
 * Revisions recorded off the event loop (changes/revision-work.ts in the document worker) are the revisions recorded
 * on it: the same sequence of documents gives the same revisions, hashes and changes through `observeOffThread` as
 * through `observe` — with the worker's copy of the previous document, without it (a new worker asks for it), and
 * with the worker failing (done in place). Also through the real worker thread.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { processRevision, type RevisionJob } from '../../src/changes/revision-work.ts';
import { RevisionStore } from '../../src/changes/revisions.ts';
import { DocumentProcessor } from '../../src/runtime/document-processor.ts';
import { eventually } from '../helpers/gateway.ts';

type Json = Record<string, unknown>;

const doc = (ops: readonly string[], required: boolean, title: string): Json => ({
  openapi: '3.1.0',
  info: { title, version: '1' },
  paths: Object.fromEntries(
    ops.map((op) => [
      `/${op}`,
      {
        post: {
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { x: { type: 'string' } },
                  ...(required ? { required: ['x'] } : {}),
                },
              },
            },
          },
          responses: { 200: { description: 'ok' } },
        },
      },
    ]),
  ),
});

const observation = (document: Json) => ({ api: 'ModelAPI/default/a', version: 'v1', document, source: 'inline' });
const NOW = new Date('2026-12-02T00:00:00Z');

describe('revisions off the event loop', () => {
  const documents = fc.array(
    fc.tuple(fc.subarray(['a', 'b', 'c']), fc.boolean(), fc.constantFrom('t1', 't2')).map(([o, r, t]) => doc(o, r, t)),
    { minLength: 1, maxLength: 8 },
  );
  const modes = ['worker keeps', 'worker forgets', 'worker fails'] as const;

  for (const mode of modes)
    it(`give the revisions recorded in place (${mode})`, async () => {
      await fc.assert(
        fc.asyncProperty(documents, async (sequence) => {
          const here = new RevisionStore(undefined);
          const off = new RevisionStore(undefined);
          let n = 0;
          const run = async (job: RevisionJob) => {
            if (mode === 'worker fails') return { ok: false as const, error: 'gone' };
            // A worker that forgets is a new worker each time: a key of its own every time.
            const key =
              mode === 'worker forgets' && job.previous === undefined && !('previous' in job)
                ? `${job.key}#${n++}`
                : job.key;
            return { ok: true as const, body: processRevision({ ...job, key }) };
          };
          for (const d of sequence) {
            // Copies: the same content as new objects, as a reload makes them.
            const a = here.observe(observation(structuredClone(d)), NOW);
            const b = await off.observeOffThread(observation(structuredClone(d)), run, NOW);
            assert.deepEqual(b, a);
          }
          assert.deepEqual(off.history(), here.history());
        }),
        { numRuns: 60, seed: 1202 },
      );
    });

  it('through the real worker thread', async () => {
    const processor = new DocumentProcessor();
    try {
      const store = new RevisionStore(undefined);
      const run = (job: RevisionJob) => processor.run(job);
      assert.equal((await store.observeOffThread(observation(doc(['a', 'b'], false, 't')), run, NOW))?.revision, 1);
      assert.equal(await store.observeOffThread(observation(doc(['a', 'b'], false, 't')), run, NOW), undefined);
      const breaking = await store.observeOffThread(observation(doc(['a'], true, 't')), run, NOW);
      assert.equal(breaking?.revision, 2);
      assert.ok((breaking?.breaking ?? 0) >= 2, JSON.stringify(breaking?.changes));
    } finally {
      await processor.close();
    }
  });

  it('through a worker that is ended between observations (idle retirement): the store resends what it forgot', async () => {
    const processor = new DocumentProcessor({ idleMs: 1 });
    try {
      const store = new RevisionStore(undefined);
      const run = (job: RevisionJob) => processor.run(job);
      const idle = () => eventually(() => !processor.workerRunning);
      assert.equal((await store.observeOffThread(observation(doc(['a', 'b'], false, 't')), run, NOW))?.revision, 1);
      await idle();
      assert.equal(await store.observeOffThread(observation(doc(['a', 'b'], false, 't')), run, NOW), undefined);
      await idle();
      const breaking = await store.observeOffThread(observation(doc(['a'], true, 't')), run, NOW);
      assert.equal(breaking?.revision, 2);
      assert.ok((breaking?.breaking ?? 0) >= 2, JSON.stringify(breaking?.changes));
    } finally {
      await processor.close();
    }
  });
});
