/**
 * A socket to Redis that errors twice (a failed TLS handshake: the local verification error, then the peer's alert)
 * must not end the process. ioredis's own connector listens with `once`, so the second error is uncaught — shown
 * below with it — while the gateway's connector keeps a listener for the socket's life.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { ResilientConnector } from '../../src/dataplane/redis-connector.ts';
import { unusedPort } from '../helpers/upstream.ts';

describe('the Redis connector', () => {
  it("keeps a socket's second error from being uncaught (ioredis's own connector does not)", async () => {
    const port = await unusedPort();
    const ours = await new ResilientConnector({ host: '127.0.0.1', port }).connect();
    ours.emit('error', new Error('first'));
    assert.doesNotThrow(() => ours.emit('error', new Error('second')));
    ours.destroy();

    const { default: StandaloneConnector } = createRequire(import.meta.url)(
      'ioredis/built/connectors/StandaloneConnector.js',
    ) as { default: new (o: object) => { connect(e: unknown): Promise<import('node:net').Socket> } };
    const theirs = await new StandaloneConnector({ host: '127.0.0.1', port }).connect(() => {});
    theirs.emit('error', new Error('first'));
    assert.throws(() => theirs.emit('error', new Error('second')), /second/);
    theirs.destroy();
  });
});
