/** Small helpers shared by the example model servers (they are demo upstreams, not part of the gateway). */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Sends a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads and parses a JSON request body (at most 1 MiB). */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1024 * 1024) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
}

/** A request handler; return false for 404. */
export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
) => Promise<boolean | undefined | void> | boolean | undefined | void;

/** Starts a server on host:port (0 = any free port) and resolves with it and its port. */
export async function startServer(
  handler: Handler,
  port = 0,
  host = '127.0.0.1',
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    Promise.resolve(handler(req, res, path)).then(
      (handled) => {
        if (handled === false && !res.headersSent) sendJson(res, 404, { error: `not found: ${req.method} ${path}` });
      },
      (err: Error) => {
        if (!res.headersSent) sendJson(res, 400, { error: err.message });
        else res.destroy();
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject); // a port in use is the caller's error to report, not an uncaught exception
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}
