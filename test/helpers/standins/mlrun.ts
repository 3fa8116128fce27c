/**
 * A stand-in for an MLRun serving graph (a Nuclio function with a `ModelRouter` and `V2ModelServer` models) on
 * loopback, answering as MLRun's code does (github.com/mlrun/mlrun at c43870f, Apache-2.0: `mlrun/serving/routers.py`,
 * `mlrun/serving/v2_serving.py`). MLRun and Nuclio are not Debian or npm packages; what the gateway relies on —
 * paths, bodies, statuses — is reproduced:
 *  - `GET /` and `GET /v2/health…` → the router's metadata; `GET /v2/models/` → `{"models": [...]}`;
 *  - `/v2/models/{m}[/versions/{v}][/{op}]`: `GET` without op → the model's metadata (`{name, version, inputs,
 *    outputs}`, features as MLRun writes them; empty lists for a model logged without them), `GET …/ready` → 200 text,
 *    `POST …/infer|predict` (or no op) → `{id, model_name, outputs, timestamp[, model_version]}`;
 *  - an unknown model or operation → 400 with MLRun's error text (Nuclio answers a handler's exception with 400 here).
 * Requests are MLRun's, not V2 tensors: `{"inputs": [[…row…], …]}` or rows as objects keyed by feature name.
 */
import { readFileSync } from 'node:fs';
import { serveOnLoopback } from './loopback.ts';

const irisMetadata = JSON.parse(
  readFileSync(new URL('../../fixtures/upstream/mlrun/iris.model-metadata.json', import.meta.url), 'utf8'),
) as { name: string; version: string; inputs: { name: string }[]; outputs: unknown[] };

export interface MLRunStandIn {
  readonly origin: string;
  readonly seen: string[];
  close(): Promise<void>;
}

/** Routes: `iris` (logged with features), `iris:v2` (its version v2), `raw` (no features logged). */
export async function startMLRun(): Promise<MLRunStandIn> {
  const routes: Record<string, { name: string; version: string; features: boolean }> = {
    iris: { name: 'iris', version: 'v1', features: true },
    'iris:v2': { name: 'iris', version: 'v2', features: true },
    raw: { name: 'raw', version: '', features: false },
  };
  const seen: string[] = [];
  const server = await serveOnLoopback(async (req, res, raw) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    seen.push(`${method} ${path}`);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const fail = (message: string) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(message);
    };
    if (method === 'GET' && (path === '/' || path.startsWith('/v2/health')))
      return json(200, { name: 'ModelRouter', version: 'v2', extensions: [] });
    if (!path.startsWith('/v2/models')) return fail(`illegal path prefix ${path}, must start with /v2/models`);
    const rest = path.slice('/v2/models'.length).replace(/^\/+|\/+$/g, '');
    if (rest === '') return json(200, { models: Object.keys(routes) });
    let segments = rest.split('/');
    let key = segments[0]!;
    if (segments.length > 2 && segments[1] === 'versions') {
      key = `${key}:${segments[2]}`;
      segments = segments.slice(2);
    }
    const op = segments.slice(1).join('/');
    const route = routes[key];
    if (!route) return fail(`model ${key} doesnt exist, available models: ${Object.keys(routes).join(' | ')}`);
    if (op === 'ready' && method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(`Model ${route.name} is ready (event_id = 1)`);
    }
    if (op === '' && method === 'GET')
      return json(200, {
        name: route.name,
        version: route.version,
        inputs: route.features ? irisMetadata.inputs : [],
        outputs: route.features ? irisMetadata.outputs : [],
      });
    if (!['', 'infer', 'predict'].includes(op)) return fail(`illegal model operation ${op}, method=${method}`);
    let body: { inputs?: unknown; id?: string };
    try {
      body = JSON.parse(raw.toString('utf8') || 'null') ?? {};
    } catch {
      return fail('Unrecognized request format');
    }
    if (!Array.isArray(body.inputs)) return fail('Expected "inputs" to be a list');
    // Rows as objects are put in feature order, as MLRun's _inputs_to_list does.
    const order = irisMetadata.inputs.map((f) => f.name);
    const rows = (body.inputs as unknown[]).map((r) =>
      Array.isArray(r) ? r : order.map((k) => (r as Record<string, unknown>)[k]),
    );
    const outputs = rows.map((r) => (Number((r as number[])[2] ?? 0) < 2.5 ? 0 : 1));
    return json(200, {
      id: body.id ?? 'event-1',
      model_name: route.name,
      outputs,
      timestamp: '2026-12-03 06:00:00.000000+00:00',
      ...(route.version ? { model_version: route.version } : {}),
    });
  });
  return {
    origin: server.origin,
    seen,
    close: () => server.close(),
  };
}
