/**
 * nginx as the reference for what a reverse proxy answers to the same bytes (Debian's nginx-light, started on a free
 * loopback port with its own temporary prefix). The configuration mirrors the gateway's test route: one prefix,
 * `/models/confined/`, proxied to an upstream's `/public/`, a 100-byte body limit, 404 everywhere else.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX_BINARY = '/usr/sbin/nginx';

export interface RunningNginx {
  readonly port: number;
  stop(): Promise<void>;
}

export function nginxInstalled(): boolean {
  return existsSync(NGINX_BINARY);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts nginx in front of `upstreamPort`; resolves once it accepts connections. */
export async function startNginx(upstreamPort: number): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-nginx-'));
  const port = await freePort();
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 128; }
http {
  access_log off;
  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 100;
    location /models/confined/ {
      proxy_pass http://127.0.0.1:${upstreamPort}/public/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
    location / { return 404; }
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX_BINARY, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The verdict on one request: the status of the first answer and the path the upstream saw (if it saw one). */
export interface Verdict {
  readonly status: number;
  readonly path?: string;
}

/**
 * Sends raw bytes and reads the first answer: its head, then its body by length or chunking (or until the close).
 * The upstream echoes the path it was asked for (see `echoUpstream`), so a 2xx verdict carries it.
 */
export function firstAnswer(port: number, bytes: Buffer | string, capMs = 2000): Promise<Verdict> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes),
    );
    let data = Buffer.alloc(0);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = data.toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      const echoed = /"echo":"((?:[^"\\]|\\.)*)"/.exec(text)?.[1];
      resolve(
        echoed !== undefined && status >= 200 && status < 300
          ? { status, path: JSON.parse(`"${echoed}"`) }
          : { status },
      );
    };
    const timer = setTimeout(finish, capMs);
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = text.slice(0, end);
      if (/^HTTP\/1\.[01] 1\d\d/.test(head)) return finish(); // an interim answer is the verdict (nothing follows)
      const length = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (length && data.length - (Buffer.byteLength(head, 'latin1') + 4) >= Number(length[1])) finish();
      else if (/\r\ntransfer-encoding: *chunked/i.test(head) && text.endsWith('\r\n0\r\n\r\n')) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
  });
}

/** An upstream that answers every request with `{"echo": <the request target it received>}`. */
export async function echoUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ echo: req.url });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
