/**
 * A stand-in for TorchServe 0.12.0 (the last release; github.com/pytorch/serve at 62c4d6a, Apache-2.0) on loopback:
 * its inference and management ports as its frontend routes them (ServerInitializer's handler chain:
 * ApiDescriptionRequestHandler → TokenAuthorizationHandler → InferenceRequestHandler → OpenInferenceProtocol…),
 * answering with the descriptions TorchServe generates (test/fixtures/upstream/torchserve: its own test resources,
 * byte for byte) and its error bodies (`{code, type, message}`). TorchServe needs a JVM and model archives, neither
 * of which Debian packages; what the gateway relies on — paths, methods, statuses, the token, the documents — is
 * reproduced here and nothing else.
 *
 * Inference port: `OPTIONS /` and `GET /api-description` (no token), `GET /ping`, `POST /predictions/{m}[/{v}]`,
 * `POST /explanations/{m}`, `POST /v1/models/{m}:predict`, `POST /v2/models/{m}/infer`, `OPTIONS /predictions/{m}`
 * (the per-model description); anything else 404 `ResourceNotFoundException`. Every request after the description
 * needs `Authorization: Bearer <inference key>` (400 `InvalidKeyException` otherwise), as TorchServe ≥ 0.11 by
 * default. Management port: `OPTIONS /`, `GET /models`, `GET /models/{m}` with the management key.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveOnLoopback } from './loopback.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/upstream/torchserve/${name}`, import.meta.url), 'utf8');

/** A model the stand-in serves: its versions and what its handler answers. */
export interface StandInModel {
  readonly versions: readonly string[];
  /** The handler's output for a request body (TorchServe passes the body to the model's handler as it is). */
  readonly predict: (body: Buffer) => string;
}

export interface TorchServeStandIn {
  readonly inference: string;
  readonly management: string;
  /** Every request each port received (method and path). */
  readonly seen: { inference: string[]; management: string[] };
  close(): Promise<void>;
}

const TOKEN_FAILED = 'Token Authorization failed. Token either incorrect, expired, or not provided correctly';
const NOT_FOUND = 'Requested resource is not found, please refer to API document.';

/** `noop` is TorchServe's own test model (its predictions answer "OK"); its description is the real one. */
export async function startTorchServe(options: {
  inferenceKey: string;
  managementKey: string;
  models?: Record<string, StandInModel>;
}): Promise<TorchServeStandIn> {
  const models: Record<string, StandInModel> = options.models ?? {
    noop: { versions: ['1.11'], predict: () => 'OK' },
  };
  const seen = { inference: [] as string[], management: [] as string[] };
  const inference = await serveOnLoopback(async (req, res, body) => {
    seen.inference.push(`${req.method} ${req.url}`);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    // Netty's segments: "/a/b" → ["", "a", "b"]; "/" → [] (String.split drops the trailing empty strings).
    const segments = path === '/' ? [] : path.split('/');
    if (segments.length === 0 || (segments.length === 2 && segments[1] === 'api-description')) {
      if ((path === '/' && req.method === 'OPTIONS') || segments[1] === 'api-description')
        return json(res, 200, fixture('inference_open_api.json'));
      return error(
        res,
        405,
        'MethodNotAllowedException',
        'Requested method is not allowed, please refer to API document.',
      );
    }
    if (!authorized(req, options.inferenceKey)) return error(res, 400, 'InvalidKeyException', TOKEN_FAILED);
    const [, first, second, third, fourth] = segments;
    let model: string | undefined;
    let version: string | undefined;
    if (first === 'ping' && segments.length === 2) return json(res, 200, JSON.stringify({ status: 'Healthy' }));
    if ((first === 'predictions' || first === 'explanations') && second) [model, version] = [second, third];
    else if (first === 'v1' && second === 'models' && segments.length === 4 && /:(predict|explain)/.test(third ?? ''))
      model = third!.split(':')[0];
    else if (
      first === 'v2' &&
      second === 'models' &&
      segments.length === 5 &&
      fourth &&
      /^(infer|explain)$/.test(fourth)
    )
      model = third;
    else return error(res, 404, 'ResourceNotFoundException', NOT_FOUND);
    const served = model !== undefined ? models[model] : undefined;
    if (!served || (version !== undefined && !served.versions.includes(version)))
      return error(
        res,
        404,
        version !== undefined && served ? 'ModelVersionNotFoundException' : 'ModelNotFoundException',
        version !== undefined && served
          ? `Model version: ${version} does not exist for model: ${model}`
          : `Model not found: ${model}`,
      );
    if (req.method === 'OPTIONS') {
      if (model !== 'noop') return error(res, 500, 'InternalServerException', 'the stand-in describes noop only');
      return json(res, 200, fixture('describe_api.json'));
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(served.predict(body));
  });
  const management = await serveOnLoopback(async (req, res) => {
    seen.management.push(`${req.method} ${req.url}`);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/' && req.method === 'OPTIONS') return json(res, 200, fixture('management_open_api.json'));
    if (!authorized(req, options.managementKey)) return error(res, 400, 'InvalidKeyException', TOKEN_FAILED);
    if (path === '/models' && req.method === 'GET')
      return json(
        res,
        200,
        JSON.stringify({ models: Object.keys(models).map((m) => ({ modelName: m, modelUrl: `${m}.mar` })) }),
      );
    return error(res, 404, 'ResourceNotFoundException', NOT_FOUND);
  });
  return {
    inference: inference.origin,
    management: management.origin,
    seen,
    async close() {
      await Promise.all([inference.close(), management.close()]);
    },
  };
}

function authorized(req: IncomingMessage, key: string): boolean {
  const header = req.headers.authorization;
  return typeof header === 'string' && header.startsWith('Bearer ') && header.slice(7) === key;
}

function json(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
}

function error(res: ServerResponse, code: number, type: string, message: string): void {
  json(res, code, JSON.stringify({ code, type, message }, null, 2));
}
