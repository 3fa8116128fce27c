/**
 * Memory per upstream connection: 10,000 connections the upstream closes after one answer, and 2,000 failed exchanges
 * (refused, reset), through the native client, must leave the live heap where it was (≤ 2 MB of growth after
 * collection). Before the parser was freed on close every connection kept ≈2.6 KB (a Connection, its Socket and
 * parser, two timers): 26 MB here.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NativePool } from '../../src/dataplane/upstream/native-pool.ts';
import { exchange } from '../helpers/transport.ts';
import { unusedPort } from '../helpers/upstream.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  return process.memoryUsage().heapUsed;
}

describe('upstream connections do not leak', () => {
  const server = createServer((req, res) => {
    if (req.url === '/reset') {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { connection: 'close', 'content-length': 2 });
    res.end('ok');
  });
  after(() => server.close());

  it('10,000 closed connections and 2,000 failed exchanges leave ≤ 2 MB of live heap', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dead = `http://127.0.0.1:${await unusedPort()}`;
    const pool = new NativePool({ origin, connections: 16, connectTimeoutMs: 2000 });
    const refused = new NativePool({ origin: dead, connections: 16, connectTimeoutMs: 2000 });
    const round = async (n: number) => {
      for (let i = 0; i < n; i += 50) {
        await Promise.all(Array.from({ length: 50 }, () => exchange(pool, { path: '/' })));
      }
    };
    await round(1000); // warm-up: code, pools and caches reach their steady size
    await Promise.all(Array.from({ length: 100 }, () => exchange(refused, { path: '/' })));
    const before = await settledHeap();
    await round(10_000);
    for (let i = 0; i < 1000; i += 50) {
      await Promise.all([
        ...Array.from({ length: 25 }, () => exchange(refused, { path: '/' })),
        ...Array.from({ length: 25 }, () => exchange(pool, { path: '/reset' })),
      ]);
    }
    const afterHeap = await settledHeap();
    const grown = (afterHeap - before) / 1024 / 1024;
    assert.ok(grown <= 2, `live heap grew by ${grown.toFixed(2)} MB`);
    assert.equal(pool.openConnections, 0);
    await Promise.all([pool.close(), refused.close()]);
  });
});
