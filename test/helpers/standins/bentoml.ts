/**
 * A stand-in for a BentoML service (`bentoml serve`, BentoML's HTTP app at github.com/bentoml/BentoML 32230a5,
 * Apache-2.0) on loopback, serving the iris classifier of test/fixtures/upstream/bentoml: `GET /docs.json` (the
 * document BentoML generates for it), the infrastructure endpoints (`/healthz`, `/livez`, `/readyz`: 200 with an
 * empty body; `/metrics`: Prometheus text), and the service's APIs as BentoML answers them — `POST /classify` with a
 * JSON body `{"features": [[…]]}` → a JSON list, `POST /classify_photo` with a `multipart/form-data` part `image` →
 * `text/plain`; a body that does not fit is a 400 `{"error": …}` (InvalidArgument), an unknown path 404. BentoML is
 * not a Debian or npm package; what the gateway relies on is reproduced.
 */
import { readFileSync } from 'node:fs';
import { serveOnLoopback } from './loopback.ts';

const docsJson = readFileSync(
  new URL('../../fixtures/upstream/bentoml/iris-classifier.docs.json', import.meta.url),
  'utf8',
);

export interface BentoMLStandIn {
  readonly origin: string;
  readonly seen: string[];
  close(): Promise<void>;
}

export async function startBentoML(): Promise<BentoMLStandIn> {
  const seen: string[] = [];
  const server = await serveOnLoopback((req, res, body) => {
    const path = (req.url ?? '/').split('?')[0]!;
    seen.push(`${req.method} ${path}`);
    const send = (status: number, type: string, text: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(text);
    };
    const invalid = (message: string) => send(400, 'application/json', JSON.stringify({ error: message }));
    if (req.method === 'GET') {
      if (path === '/docs.json') return send(200, 'application/json', docsJson);
      if (path === '/healthz' || path === '/livez' || path === '/readyz') return send(200, 'text/plain', '');
      if (path === '/metrics') return send(200, 'text/plain; version=0.0.4', 'bentoml_service_request_total 0\n');
    }
    if (req.method === 'POST' && path === '/classify') {
      let input: { features?: unknown };
      try {
        input = JSON.parse(body.toString('utf8'));
      } catch {
        return invalid('Invalid JSON input received');
      }
      const rows = input.features;
      if (!Array.isArray(rows) || !rows.every((r) => Array.isArray(r) && r.every((v) => typeof v === 'number')))
        return invalid('1 validation error for Input\nfeatures\n  Input should be a valid list');
      return send(200, 'application/json', JSON.stringify(rows.map((r) => ((r as number[])[2]! < 2.5 ? 0 : 1))));
    }
    if (req.method === 'POST' && path === '/classify_photo') {
      const type = String(req.headers['content-type'] ?? '');
      const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
      if (!type.startsWith('multipart/form-data') || !boundary)
        return invalid('Expected multipart/form-data for the image field');
      const text = body.toString('latin1');
      if (!/content-disposition:\s*form-data;[^\r\n]*name="image"/i.test(text))
        return invalid('1 validation error for Input\nimage\n  Field required');
      return send(200, 'text/plain', 'setosa');
    }
    return send(404, 'application/json', JSON.stringify({ error: 'Not Found' }));
  });
  return { origin: server.origin, seen, close: () => server.close() };
}
