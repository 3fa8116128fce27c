/**
 * The benchmark's "where the time goes" table sorts CPU profile samples into parts (bench/profile.ts): checked on a
 * small hand-made profile, so a change in the sorting cannot quietly move time between parts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { profileShares } from '../../bench/profile.ts';

const node = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url },
  children,
});

describe('bench profile parts', () => {
  it('sorts samples by part and leaves out idle time and start-up', () => {
    const profile = {
      nodes: [
        node(1, '(root)', '', [2, 3, 4, 5, 6, 9]),
        node(2, '(idle)', ''),
        node(3, '(garbage collector)', ''),
        node(4, 'onRequest', 'file:///app/dist/dataplane/data-plane.js', [7]),
        node(5, 'end', 'node:_http_outgoing', [8]),
        node(6, 'run', 'node:internal/modules/run_main', [10]),
        node(7, 'pick', 'file:///app/dist/dataplane/balancer.js'),
        node(8, 'writev', ''),
        node(9, '(program)', ''),
        node(10, 'compile', 'file:///app/dist/compiler/compile.js'),
      ],
      samples: [2, 3, 7, 8, 8, 5, 9, 10, 4, 2],
      timeDeltas: [100, 10, 10, 10, 10, 10, 10, 500, 10, 100],
    };
    const shares = profileShares(profile);
    // Busy, not start-up: gc 10, own code 10 + 10, writes 20, Node 10, program 10 → 70.
    assert.deepEqual(Object.fromEntries(Object.entries(shares).map(([k, v]) => [k, Math.round(v * 70)])), {
      'socket writes (syscalls)': 20,
      'reads, event loop, native': 10,
      'garbage collection': 10,
      "Node's HTTP, streams, timers": 10,
      'libraries (node_modules)': 0,
      "the proxy's own code": 20,
    });
  });
});
