/**
 * A stand-in for Seldon Core v2's data plane on loopback: the mesh (Envoy) routing V2 requests by the `seldon-model`
 * header as Seldon's scheduler configures it (v2.6.0, `scheduler/pkg/envoy/resources`: any path under `/v2` with
 * `seldon-model: <model>` goes to the model's server, `<pipeline>.pipeline` to the pipeline gateway,
 * `<experiment>.experiment` is split by the experiment's weights; no match is Envoy's empty 404), the model servers
 * answering like MLServer with Seldon's versioned model names (`iris_1`), and the pipeline gateway answering only
 * `/v2/models/{p}/infer` and `/ready` (`scheduler/pkg/kafka/pipeline/httpserver.go`). Seldon's control plane
 * (scheduler, Kafka, agents) is not needed to show what the gateway relies on, and is not reproduced.
 *
 * Models serve the metadata of MLServer's iris example (test/fixtures/upstream/mlserver/model-settings, Apache-2.0).
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { serveOnLoopback } from './loopback.ts';

const iris = JSON.parse(
  readFileSync(
    new URL('../../fixtures/upstream/mlserver/model-settings/iris.model-settings.json', import.meta.url),
    'utf8',
  ),
) as { inputs: unknown[]; platform: string };

export interface SeldonMeshStandIn {
  readonly origin: string;
  readonly port: number;
  /** Every request: method, path and the `seldon-model` header it came with. */
  readonly seen: { method: string; path: string; seldonModel: string | undefined }[];
  close(): Promise<void>;
}

/** Models served (each answers as MLServer's iris), pipelines, and experiments (candidate → weight). */
export async function startSeldonMesh(options: {
  models: readonly string[];
  pipelines?: readonly string[];
  experiments?: Record<string, Record<string, number>>;
}): Promise<SeldonMeshStandIn> {
  const seen: SeldonMeshStandIn['seen'] = [];
  const server = await serveOnLoopback(async (req, res, body) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const header = req.headers['seldon-model'];
    const seldonModel = typeof header === 'string' ? header : undefined;
    seen.push({ method: req.method ?? '', path, seldonModel });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const noRoute = () => {
      res.writeHead(404, { 'content-length': '0' });
      res.end();
    };
    if (!path.startsWith('/v2') || seldonModel === undefined) return noRoute();
    let target = seldonModel;
    if (target.endsWith('.experiment')) {
      const weights = options.experiments?.[target.slice(0, -'.experiment'.length)];
      if (!weights) return noRoute();
      target = pickWeighted(weights);
    }
    if (target.endsWith('.pipeline')) {
      const name = target.slice(0, -'.pipeline'.length);
      if (!options.pipelines?.includes(name)) return noRoute();
      const m = /^\/v2\/models\/([^/]+)\/(infer|ready)$/.exec(path);
      if (!m) return json(404, { error: 'not found' });
      if (m[2] === 'ready') return json(200, {});
      return json(200, {
        model_name: '',
        outputs: [{ name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16], data: Array(16).fill(2) }],
      });
    }
    if (!options.models.includes(target)) return noRoute();
    return modelServer(target, req, path, body, json);
  });
  return {
    origin: server.origin,
    port: server.port,
    seen,
    close: () => server.close(),
  };
}

/** MLServer behind Seldon's agent: the model answers under its versioned name (`<model>_1`). */
function modelServer(
  model: string,
  req: IncomingMessage,
  path: string,
  body: Buffer,
  json: (status: number, body: unknown) => void,
) {
  const m = /^\/v2\/models\/([^/]+)(?:\/versions\/[^/]+)?(\/ready|\/infer)?$/.exec(path);
  if (!m) return json(404, { error: 'Not Found' });
  const internal = `${model}_1`;
  if (m[2] === '/ready') return json(200, {});
  if (m[2] === undefined) {
    if (req.method !== 'GET') return json(405, { error: 'Method Not Allowed' });
    return json(200, { name: internal, versions: [], platform: iris.platform, inputs: iris.inputs, outputs: [] });
  }
  let request: { inputs?: { data?: unknown[] }[] };
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch {
    return json(400, { error: 'Invalid JSON' });
  }
  const features = (request.inputs?.[0]?.data ?? []).flat(Number.POSITIVE_INFINITY) as number[];
  // A setosa has short petals: enough of the iris classifier to tell a request from another.
  const species = (features[2] ?? 0) < 2.5 ? 0 : (features[3] ?? 0) < 1.75 ? 1 : 2;
  return json(200, {
    model_name: internal,
    model_version: '1',
    outputs: [{ name: 'predict', datatype: 'INT64', shape: [1, 1], data: [species] }],
  });
}

function pickWeighted(weights: Record<string, number>): string {
  const entries = Object.entries(weights);
  const total = entries.reduce((a, [, w]) => a + w, 0);
  let r = Math.random() * total;
  for (const [name, w] of entries) {
    r -= w;
    if (r < 0) return name;
  }
  return entries.at(-1)![0];
}
