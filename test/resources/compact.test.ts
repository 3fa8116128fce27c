/**
 * The compact forms a snapshot keeps its data in (src/resources/compact.ts): equal content, less memory. Sizes are
 * V8's business and not asserted; what is asserted is that the forms are equal to what they replace and shared
 * where they claim to be.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonical, exact, flat, sameItems } from '../../src/resources/compact.ts';

describe('compact snapshot data', () => {
  it('exact() copies arrays and shares one frozen empty array', () => {
    const grown: number[] = [];
    grown.push(1, 2, 3);
    const copy = exact(grown);
    assert.deepEqual(copy, [1, 2, 3]);
    assert.notEqual(copy, grown, 'a copy: the grown one keeps its spare capacity');
    assert.equal(exact([]), exact([]));
    assert.ok(Object.isFrozen(exact([])));
  });

  it('flat() joins its parts', () => {
    const namespace = 'default';
    assert.equal(flat('ModelAPI/', namespace, '/', 'iris'), `ModelAPI/${namespace}/iris`);
    assert.equal(flat(), '');
  });

  it('sameItems() compares lists by the identity of their items', () => {
    const a = { x: 1 };
    assert.ok(sameItems([a, 'k', 1], [a, 'k', 1]));
    assert.ok(!sameItems([a], [{ x: 1 }]), 'equal is not the same');
    assert.ok(!sameItems([a], [a, a]));
  });

  it('canonical() hands out one deeply frozen instance per value', () => {
    const a = canonical({ attempts: 2, on: ['reset'], statuses: [] as number[] });
    const b = canonical({ attempts: 2, on: ['reset'], statuses: [] as number[] });
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a.on));
    assert.throws(() => (a.on as string[]).push('gateway-error'), TypeError);
    assert.notEqual(canonical({ attempts: 3, on: ['reset'] }), a);
  });
});
