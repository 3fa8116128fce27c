/** A real Redis (Debian `redis-server`) on 127.0.0.1, started for a test and stopped by its pid. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { unusedPort } from './upstream.ts';

/** Where redis-server is, if installed. */
export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

/** A running Redis. */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop). */
  restart(): Promise<void>;
}

async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(/^(\+PONG|-NOAUTH)/.test(d.toString()));
    });
    socket.once('error', () => resolve(false));
  });
}

/** Settings of a test Redis: extra server arguments (`--requirepass`, `--user`), TLS (then the only listener). */
export interface RedisOptions {
  readonly args?: readonly string[];
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

async function pingTls(port: number, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', ca, servername: 'localhost' }, () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      // An authenticated server answers NOAUTH: it is up all the same.
      resolve(/^(\+PONG|-NOAUTH)/.test(d.toString()));
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts redis-server without persistence on a free loopback port. */
export async function startRedis(options: RedisOptions = {}): Promise<TestRedis> {
  if (!REDIS_SERVER) throw new Error('redis-server is not installed');
  const port = await unusedPort();
  let proc: ChildProcess | undefined;
  const listen = options.tls
    ? [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        options.tls.certFile,
        '--tls-key-file',
        options.tls.keyFile,
        '--tls-ca-cert-file',
        options.tls.caFile,
        '--tls-auth-clients',
        'no',
      ]
    : ['--port', String(port)];
  const up = options.tls
    ? (() => {
        const ca = readFileSync(options.tls.caFile, 'utf8');
        return () => pingTls(port, ca);
      })()
    : () => ping(port);
  const launch = async () => {
    proc = spawn(
      REDIS_SERVER,
      [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...(options.args ?? [])],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100 && !(await up()); i++) await new Promise((r) => setTimeout(r, 50));
  };
  await launch();
  return {
    port,
    url: `${options.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    async stop() {
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise((r) => proc!.once('exit', r));
      process.kill(proc.pid!, 'SIGTERM');
      await exited;
    },
    restart: launch,
  };
}
