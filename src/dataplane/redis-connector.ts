/**
 * How the gateway connects to Redis: a plain or TLS socket to the configured host and port, like ioredis's own
 * connector, with one difference that matters for a process that must not die — every socket keeps an `error`
 * listener for its whole life. ioredis listens for a socket's errors with `once`; a TLS handshake that fails can
 * emit a second error (the peer's alert after the local verification failure), which then had no listener and ended
 * the process as an uncaught exception (seen with a Redis whose certificate the configured CA did not sign). Errors
 * still reach ioredis through its own listener first; the extra one only keeps late ones from being fatal.
 */
import { createConnection, type Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { AbstractConnector } from 'ioredis';

interface ConnectorOptions {
  readonly host?: string;
  readonly port?: number;
  readonly family?: number;
  readonly tls?: ConnectionOptions;
  readonly disconnectTimeout?: number;
}

const ignore = () => {};

export class ResilientConnector extends AbstractConnector {
  readonly #options: ConnectorOptions;

  constructor(options: ConnectorOptions) {
    super(options.disconnectTimeout ?? 2000);
    this.#options = options;
  }

  connect(): Promise<Socket | TLSSocket> {
    this.connecting = true;
    const { host, port, family, tls } = this.#options;
    const target = {
      host: host ?? '127.0.0.1',
      port: port ?? 6379,
      ...(family !== undefined ? { family } : {}),
    };
    return new Promise((resolve, reject) => {
      // A tick later, as ioredis expects (its listeners are attached once this resolves).
      process.nextTick(() => {
        if (!this.connecting) {
          reject(new Error('Connection is closed.'));
          return;
        }
        let stream: Socket | TLSSocket;
        try {
          stream = tls ? tlsConnect({ ...target, ...tls }) : createConnection(target);
        } catch (err) {
          reject(err);
          return;
        }
        stream.once('error', (err) => {
          this.firstError = err;
        });
        stream.on('error', ignore);
        this.stream = stream;
        resolve(stream);
      });
    });
  }
}
