/**
 * The backends of the Gateway API conformance cases: one HTTP server per "pod" on 127.0.0.1, answering as the
 * upstream echo server does (see test/fixtures/gateway-api-conformance/SOURCES.md): a JSON echo of the request
 * (`path` with query, `host`, `method`, `proto`, `headers` by canonical name with their values, `namespace`,
 * `ingress`, `service`, `pod`, `httpPort`), response headers set from `X-Echo-Set-Header` (`Name:value,Name2:value`),
 * a `delay` query parameter (a Go duration) before answering, `/status/NNN`, and a log of every request (mirrors are
 * checked against it, as upstream reads the pods' logs).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One echo pod. */
export interface EchoPod {
  readonly namespace: string;
  readonly service: string;
  readonly name: string;
  readonly port: number;
  /** Every request target it answered, in order (the "Echoing back request made to … to client" log). */
  readonly log: string[];
  close(): Promise<void>;
}

/** Go's canonical header name: `x-header-add` → `X-Header-Add`. */
export function canonical(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((p) => (p.length > 0 ? p[0]!.toUpperCase() + p.slice(1) : p))
    .join('-');
}

/** A Go duration (`1s`, `500ms`, `1m30s`) in milliseconds. */
function goDurationMs(value: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 1e-6 };
  let total = 0;
  for (const [, n, unit] of value.matchAll(/([\d.]+)(h|ms|m|s|us|µs|ns)/g)) total += Number(n) * (units[unit!] ?? 0);
  return total;
}

function headersOf(req: IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = canonical(req.rawHeaders[i]!);
    if (name === 'Host') continue; // Go moves it to Request.Host
    const values = out[name] ?? [];
    values.push(req.rawHeaders[i + 1]!);
    out[name] = values;
  }
  return out;
}

/** Starts a pod of `service` in `namespace`; its name is `<service>-<10 chars>-<5 chars>`, like a Deployment's. */
export async function startEchoPod(namespace: string, service: string): Promise<EchoPod> {
  const name = `${service}-${randomBytes(5).toString('hex')}-${randomBytes(3).toString('hex').slice(0, 5)}`;
  const log: string[] = [];
  let port = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const target = req.url ?? '/';
      log.push(target);
      const query = new URLSearchParams(target.split('?')[1] ?? '');
      const status = /^\/status\/(\d{3})/.exec(target);
      const answer = () => {
        for (const pair of String(req.headers['x-echo-set-header'] ?? '').split(',')) {
          const colon = pair.indexOf(':');
          if (colon > 0) res.setHeader(pair.slice(0, colon).trim(), pair.slice(colon + 1).trim());
        }
        if (status) {
          res.writeHead(Number(status[1]));
          res.end();
          return;
        }
        const body = JSON.stringify({
          path: target,
          host: req.headers.host ?? '',
          method: req.method,
          proto: `HTTP/${req.httpVersion}`,
          headers: headersOf(req),
          namespace,
          ingress: '',
          service,
          pod: name,
          httpPort: String(port),
        });
        res.writeHead(200, { 'content-type': 'application/json', 'x-content-type-options': 'nosniff' });
        res.end(body);
      };
      const delay = query.get('delay');
      if (delay) setTimeout(answer, goDurationMs(delay));
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    namespace,
    service,
    name,
    port,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
