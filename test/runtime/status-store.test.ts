/**
 * File mode's status store: a condition's lastTransitionTime moves only when its status changes, an unchanged status
 * is kept as published (the same object, however many reloads), and changed fields are published.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResourceStatus } from '../../src/resources/status.ts';
import { StatusStore } from '../../src/runtime/status-store.ts';

const status = (ready: 'True' | 'False', fields: Record<string, unknown>): ResourceStatus => ({
  ref: 'ModelAPI/default/iris',
  observedGeneration: 1,
  conditions: [
    { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok' },
    { type: 'Ready', status: ready, reason: ready === 'True' ? 'Ready' : 'NoEndpoints', message: 'm' },
  ],
  fields,
});

describe('status store', () => {
  it('publishes equal conditions of different resources as one shared object', () => {
    const store = new StatusStore();
    const other = { ...status('True', {}), ref: 'ModelAPI/default/other' };
    store.update([status('True', {}), other], new Date('2026-01-01T00:00:00Z'));
    const a = store.get('ModelAPI/default/iris')!.conditions;
    const b = store.get('ModelAPI/default/other')!.conditions;
    assert.equal(a[0], b[0]);
    assert.equal(a[1], b[1]);
    assert.equal(a[0]!.lastTransitionTime, '2026-01-01T00:00:00.000Z');
  });

  it('keeps unchanged statuses, publishes changed fields and conditions with their transition times', () => {
    const store = new StatusStore();
    const fields = { url: 'http://gw/models/iris' };
    assert.deepEqual(store.update([status('True', fields)], new Date('2026-01-01T00:00:00Z')), [
      'ModelAPI/default/iris',
    ]);
    const first = store.get('ModelAPI/default/iris')!;
    // The same compiler output (a new object, same content and fields object): nothing changes, nothing is rebuilt.
    assert.deepEqual(store.update([status('True', fields)], new Date('2026-01-02T00:00:00Z')), []);
    assert.equal(store.get('ModelAPI/default/iris'), first);
    // New fields, same conditions: published, transition times kept, not reported as a condition change.
    assert.deepEqual(
      store.update([status('True', { url: 'http://gw/v2/iris' })], new Date('2026-01-03T00:00:00Z')),
      [],
    );
    const moved = store.get('ModelAPI/default/iris')!;
    assert.equal(moved.url, 'http://gw/v2/iris');
    assert.deepEqual(
      moved.conditions.map((c) => c.lastTransitionTime),
      first.conditions.map((c) => c.lastTransitionTime),
    );
    // Ready flips: only its time moves.
    assert.deepEqual(store.update([status('False', fields)], new Date('2026-01-04T00:00:00Z')), [
      'ModelAPI/default/iris',
    ]);
    const flipped = store.get('ModelAPI/default/iris')!;
    assert.equal(flipped.conditions[0]!.lastTransitionTime, first.conditions[0]!.lastTransitionTime);
    assert.equal(flipped.conditions[1]!.lastTransitionTime, '2026-01-04T00:00:00.000Z');
    assert.equal(flipped.url, 'http://gw/models/iris');
  });
});
