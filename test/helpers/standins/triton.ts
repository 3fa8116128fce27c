/**
 * A stand-in for Triton Inference Server's HTTP/REST endpoint (KServe V2 plus Triton's extensions) on loopback,
 * serving Triton's example model `simple` (test/fixtures/upstream/triton: its configuration from Triton's repository,
 * BSD-3-Clause, and the metadata and JSON configuration Triton derives from it). Triton needs GPUs or its container
 * image, neither a Debian package; what the gateway relies on is reproduced and nothing else:
 *  - routes as Triton's `src/http_server.cc` matches them (`/v2`, `/v2/health/(live|ready)`,
 *    `/v2/models/{m}[/versions/{v}][/infer|ready|config|stats]`, `/v2/repository[/{r}]/(index|models/{m}/(load|unload))`);
 *    anything else 404 `{"error":"Not Found"}`;
 *  - `infer` as the model computes (OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 − INPUT1), with Triton's checks:
 *    a batch over `max_batch_size` or a shape unlike the configuration is a 400 `{"error": …}`.
 */
import { readFileSync } from 'node:fs';
import { serveOnLoopback } from './loopback.ts';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/upstream/triton/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;

export interface TritonStandIn {
  readonly origin: string;
  /** Every request received (method and path). */
  readonly seen: string[];
  close(): Promise<void>;
}

const MODEL =
  /^\/v2\/models\/([^/]+)(?:\/versions\/([0-9]+))?(?:\/(infer|generate|generate_stream|ready|config|stats|trace\/setting))?$/;
const SERVER = /^\/v2(?:\/health\/(live|ready))?$/;
const REPOSITORY = /^\/v2\/repository(?:\/([^/]+))?\/(index|models\/([^/]+)\/(load|unload))$/;

type Tensor = { name: string; datatype: string; shape: number[]; data: unknown[] };

export async function startTriton(): Promise<TritonStandIn> {
  const metadata = fixture('simple.model-metadata.json');
  const config = fixture('simple.model-config.json') as {
    max_batch_size: number;
    input: { name: string; dims: number[] }[];
  };
  const seen: string[] = [];
  const server = await serveOnLoopback(async (req, res, raw) => {
    const path = (req.url ?? '/').split('?')[0]!;
    seen.push(`${req.method} ${path}`);
    const reply = (status: number, body?: unknown) => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    const error = (status: number, message: string) => reply(status, { error: message });
    const model = MODEL.exec(path);
    if (model) {
      const [, name, version, kind] = model;
      if (name !== 'simple' || (version !== undefined && version !== '1'))
        return error(400, `Request for unknown model: '${name}'${version ? ` version ${version}` : ''} is not found`);
      if (kind === 'ready' || kind === undefined || kind === 'config' || kind === 'stats') {
        if (req.method !== 'GET') return error(405, 'Method Not Allowed');
        if (kind === 'ready') return reply(200);
        if (kind === 'config') return reply(200, config);
        if (kind === 'stats') return reply(200, { model_stats: [{ name: 'simple', version: '1' }] });
        return reply(200, metadata);
      }
      if (kind !== 'infer') return error(400, `${kind} is not supported by model 'simple'`);
      if (req.method !== 'POST') return error(405, 'Method Not Allowed');
      let body: { inputs?: Tensor[]; id?: string };
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return error(400, 'failed to parse the request JSON buffer');
      }
      const inputs = new Map((body.inputs ?? []).map((t) => [t.name, t]));
      let batch = -1;
      for (const declared of config.input) {
        const t = inputs.get(declared.name);
        if (!t) return error(400, `expected 2 inputs but got ${inputs.size} inputs for model 'simple'`);
        const [rows, ...rest] = t.shape;
        if (rows === undefined || rows > config.max_batch_size)
          return error(400, `inference request batch-size must be <= ${config.max_batch_size} for 'simple'`);
        if (rest.join() !== declared.dims.join())
          return error(
            400,
            `unexpected shape for input '${t.name}' for model 'simple'. Expected [-1,${declared.dims}], got [${t.shape}]`,
          );
        const flat = (t.data as unknown[]).flat(Number.POSITIVE_INFINITY) as number[];
        if (flat.length !== rows * declared.dims.reduce((a, b) => a * b, 1))
          return error(400, `unexpected number of elements for input '${t.name}'`);
        batch = rows;
      }
      const a = (inputs.get('INPUT0')!.data as unknown[]).flat(Number.POSITIVE_INFINITY) as number[];
      const b = (inputs.get('INPUT1')!.data as unknown[]).flat(Number.POSITIVE_INFINITY) as number[];
      const shape = [batch, 16];
      return reply(200, {
        ...(body.id !== undefined ? { id: body.id } : {}),
        model_name: 'simple',
        model_version: '1',
        outputs: [
          { name: 'OUTPUT0', datatype: 'INT32', shape, data: a.map((x, i) => x + b[i]!) },
          { name: 'OUTPUT1', datatype: 'INT32', shape, data: a.map((x, i) => x - b[i]!) },
        ],
      });
    }
    if (path === '/v2') return reply(200, { name: 'triton', version: '2.54.0', extensions: ['model_configuration'] });
    if (SERVER.test(path)) return reply(200);
    const repository = REPOSITORY.exec(path);
    if (repository) {
      if (req.method !== 'POST') return error(405, 'Method Not Allowed');
      return reply(200, repository[2] === 'index' ? [{ name: 'simple', version: '1', state: 'READY' }] : undefined);
    }
    return error(404, 'Not Found');
  });
  return {
    origin: server.origin,
    seen,
    close: () => server.close(),
  };
}
