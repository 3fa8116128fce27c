/**
 * The gateway's one OpenAI-compatible endpoint (ModelGateway `spec.openAIEndpoint`, default `/v1`): a request to
 * `<prefix>/chat/completions` (completions, embeddings, responses, audio/speech) is read once — within the largest
 * body an OpenAI-compatible ModelAPI accepts — its `model` looked up in the snapshot's model index, and the request
 * continues as if it had been sent to that ModelAPI's own prefix (`/models/chat/v1/chat/completions`), with the body
 * already read: every policy of that ModelAPI (auth, rate and token limits, validation, cache, metrics, access log)
 * applies exactly as there. An alias's body gets the upstream id, and its answer the alias back (model-alias-tap.ts). `GET <prefix>/models` lists the models the caller
 * may use: those of ModelAPIs without authentication, and of those whose authentication the request passes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorName } from '../errors/catalog.ts';
import { authenticate, type JwksCache } from '../policies/auth/authenticate.ts';
import type { AuthPolicy, ModelTarget, OpenAIEndpoint, RouteRule } from '../snapshot/types.ts';
import { watchBodySilence } from './client-connections.ts';
import { readRequestBody } from './request-body.ts';

/** The operations routed by the body's `model` (JSON bodies). */
const ROUTED = new Set(['chat/completions', 'completions', 'embeddings', 'responses', 'audio/speech']);

/** What the endpoint needs of the data plane. */
export interface EndpointRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly path: string;
  readonly query: string;
  readonly endpoint: OpenAIEndpoint;
  readonly routes: readonly RouteRule[];
  readonly jwks: JwksCache;
  readonly bodySilenceMs: number;
  readonly fail: (name: ErrorName, detail: string, extensions?: Record<string, unknown>) => void;
  /** Continues the request under `path` with its body already read (and the alias to put back in the answer). */
  readonly continueAt: (path: string, body: Buffer, alias?: { upstream: string; alias: string }) => void;
  /** Counts an answer the endpoint gave itself. */
  readonly answered: (code: number) => void;
}

/** Handles a request under the endpoint's prefix. */
export async function serveOpenAIEndpoint(r: EndpointRequest): Promise<void> {
  const operation = r.path.slice(r.endpoint.prefix.length + 1);
  const method = r.req.method ?? 'GET';
  if (operation === 'models' || operation.startsWith('models/')) {
    if (method !== 'GET' && method !== 'HEAD') {
      r.res.setHeader('allow', 'GET, HEAD');
      r.fail('methodNotAllowed', `${method} is not allowed here; use GET`);
      return;
    }
    const usable = await usableModels(r);
    const wanted = operation === 'models' ? undefined : decodeURIComponent(operation.slice('models/'.length));
    if (wanted !== undefined && !usable.includes(wanted)) {
      r.fail('routeNotFound', `no model ${JSON.stringify(wanted)} is served here`, { models: usable });
      return;
    }
    const entry = (id: string) => ({ id, object: 'model', created: 0, owned_by: r.endpoint.models[id]!.ownedBy });
    sendJson(r.res, wanted === undefined ? { object: 'list', data: usable.map(entry) } : entry(wanted));
    r.answered(200);
    return;
  }
  if (!ROUTED.has(operation)) {
    r.fail(
      'routeNotFound',
      `${r.endpoint.prefix}/${operation} is not routed by model; use a model API's own prefix for it`,
    );
    return;
  }
  if (method !== 'POST') {
    r.res.setHeader('allow', 'POST');
    r.fail('methodNotAllowed', `${method} is not allowed here; use POST`);
    return;
  }
  watchBodySilence(r.req, r.res, r.bodySilenceMs);
  const read = await readRequestBody(r.req, r.endpoint.maxBodyBytes);
  if (!read.ok) {
    if (read.error === 'aborted') return;
    if (read.error === 'tooLarge') r.res.shouldKeepAlive = false;
    r.fail(read.error === 'tooLarge' ? 'payloadTooLarge' : 'malformedRequest', read.detail);
    return;
  }
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(read.body.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      body = parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  if (!body || typeof body.model !== 'string' || body.model === '') {
    r.fail('invalidRequest', 'the body must be a JSON object with a `model` naming the model to use', {
      violations: [{ pointer: '/model', message: 'a model id is required' }],
    });
    return;
  }
  const target = r.endpoint.models[body.model];
  if (!target) {
    r.fail('routeNotFound', `no model ${JSON.stringify(body.model)} is served here`, {
      models: await usableModels(r),
    });
    return;
  }
  const forwarded = target.upstreamModel
    ? Buffer.from(JSON.stringify({ ...body, model: target.upstreamModel }))
    : read.body;
  r.continueAt(
    `${target.prefix}/v1/${operation}`,
    forwarded,
    target.upstreamModel ? { upstream: target.upstreamModel, alias: body.model } : undefined,
  );
}

/** The model ids the request may use, sorted: its credentials are checked against each ModelAPI's authentication. */
async function usableModels(r: EndpointRequest): Promise<string[]> {
  const authOf = authByApi(r.routes);
  const verdicts = new Map<AuthPolicy, Promise<boolean>>();
  const allowed = async (target: ModelTarget): Promise<boolean> => {
    const auth = authOf.get(target.ref);
    if (!auth) return true;
    let verdict = verdicts.get(auth);
    if (!verdict) {
      verdict = Promise.resolve(authenticate(r.req, r.query, auth, r.jwks)).then((o) => o.ok);
      verdicts.set(auth, verdict);
    }
    return verdict;
  };
  const ids = Object.keys(r.endpoint.models).sort();
  const keep = await Promise.all(ids.map((id) => allowed(r.endpoint.models[id]!)));
  return ids.filter((_, i) => keep[i]);
}

/** Each ModelAPI's authentication (the same on all its rules). */
const authCache = new WeakMap<readonly RouteRule[], Map<string, AuthPolicy>>();
function authByApi(routes: readonly RouteRule[]): Map<string, AuthPolicy> {
  let map = authCache.get(routes);
  if (!map) {
    map = new Map();
    for (const rule of routes)
      if (rule.action.type === 'Forward' && rule.action.auth && !map.has(rule.labels.api))
        map.set(rule.labels.api, rule.action.auth);
    authCache.set(routes, map);
  }
  return map;
}

function sendJson(res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
