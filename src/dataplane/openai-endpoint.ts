/**
 * The gateway's one OpenAI-compatible endpoint (ModelGateway `spec.openAIEndpoint`, default `/v1`): a request to
 * `<prefix>/chat/completions` (completions, embeddings, responses, audio/speech; the audio uploads as multipart forms)
 * is read once — within the largest body an OpenAI-compatible ModelAPI accepts — its `model` looked up in the
 * snapshot's model index, and the request continues as if it had been sent to that ModelAPI's own prefix
 * (`/models/chat/v1/chat/completions`), with the body already read: every policy of that ModelAPI (auth, rate and
 * token limits, validation, cache, metrics, access log) applies exactly as there. An alias's body gets the upstream
 * id, and its answer the alias back (model-alias-tap.ts). A model's fallbacks (`modelFallbacks`) are tried in order
 * when its answer would be a connect failure, a timeout, 429 or 5xx and nothing has reached the client yet
 * (forward.ts asks); each is a full new pass through the fallback ModelAPI's pipeline with the body's `model`
 * rewritten, within the request's own deadline (counted from its start). `GET <prefix>/models` lists the models the
 * caller may use: those of ModelAPIs without authentication, and of those whose authentication the request passes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorName } from '../errors/catalog.ts';
import { authenticate, type JwksCache } from '../policies/auth/authenticate.ts';
import type { AuthPolicy, ModelTarget, OpenAIEndpoint, RouteRule } from '../snapshot/types.ts';
import { watchBodySilence } from './client-connections.ts';
import type { Fallback, FallbackCause } from './forward.ts';
import { readRequestBody } from './request-body.ts';

/** The operations routed by the body's `model`: JSON bodies, and multipart forms for the audio uploads. */
const ROUTED = new Set([
  'chat/completions',
  'completions',
  'embeddings',
  'responses',
  'audio/speech',
  'audio/transcriptions',
  'audio/translations',
]);
const MULTIPART = new Set(['audio/transcriptions', 'audio/translations']);

/** The request body as the router sees it: its model, and the same body for another model id. */
interface ModelBody {
  readonly model: string;
  /** The body with `model` set to `id` (the original bytes when it is the same id), and its new content type. */
  withModel(id: string): Promise<{ readonly bytes: Buffer; readonly contentType?: string }>;
}

/** The model a request continues with. */
export interface RoutedModel {
  /** The model id that serves it (answered in `x-modelgate-model`). */
  readonly id: string;
  /** Set for an alias: the upstream id, to put the alias back in the answer. */
  readonly alias: { readonly upstream: string; readonly alias: string } | undefined;
  /** Where the request goes if this model fails before its answer starts. */
  readonly fallback: Fallback | undefined;
  /** The body's new content type, when it was re-encoded (a multipart form with another model id). */
  readonly contentType?: string;
}

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
  /** Continues the request under `path` with its body already read, as the model `routed` says. */
  readonly continueAt: (path: string, body: Buffer, routed: RoutedModel) => void;
  /** Counts a move to a fallback: the ModelAPI that failed, its model, why. */
  readonly countFallback: (failedApi: string, model: string, cause: FallbackCause) => void;
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
  const contentType = r.req.headers['content-type'] ?? '';
  const body =
    MULTIPART.has(operation) && /^multipart\/form-data/i.test(contentType)
      ? await formBody(read.body, contentType)
      : jsonBody(read.body);
  if (!body) {
    r.fail(
      'invalidRequest',
      `the body must be ${MULTIPART.has(operation) ? 'a multipart form or ' : ''}a JSON object with a \`model\` naming the model to use`,
      { violations: [{ pointer: '/model', message: 'a model id is required' }] },
    );
    return;
  }
  const target = r.endpoint.models[body.model];
  if (!target) {
    r.fail('routeNotFound', `no model ${JSON.stringify(body.model)} is served here`, {
      models: await usableModels(r),
    });
    return;
  }
  await continueWith(r, operation, body, body.model, target, fallbackChain(r.endpoint, body.model, target));
}

function jsonBody(bytes: Buffer): ModelBody | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const object = parsed as Record<string, unknown>;
  const model = object.model;
  if (typeof model !== 'string' || model === '') return undefined;
  return {
    model,
    withModel: async (id) => ({ bytes: id === model ? bytes : Buffer.from(JSON.stringify({ ...object, model: id })) }),
  };
}

/** A multipart form (the audio uploads): parsed by the platform's own FormData, re-encoded only for another id. */
async function formBody(bytes: Buffer, contentType: string): Promise<ModelBody | undefined> {
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(bytes), { headers: { 'content-type': contentType } }).formData();
  } catch {
    return undefined;
  }
  const model = form.get('model');
  if (typeof model !== 'string' || model === '') return undefined;
  return {
    model,
    withModel: async (id) => {
      if (id === model) return { bytes };
      const copy = new FormData();
      for (const [name, value] of form.entries()) copy.append(name, name === 'model' ? id : value);
      const encoded = new Request('http://modelgate.invalid/', { method: 'POST', body: copy });
      return {
        bytes: Buffer.from(await encoded.arrayBuffer()),
        contentType: encoded.headers.get('content-type') ?? contentType,
      };
    },
  };
}

/**
 * Sends the request on to `target`: the body's `model` rewritten when the id is an alias or a fallback's (the
 * original bytes otherwise), the alias put back in the answer, and the next fallback ready.
 */
async function continueWith(
  r: EndpointRequest,
  operation: string,
  body: ModelBody,
  id: string,
  target: ModelTarget,
  chain: string[],
): Promise<void> {
  const upstreamId = target.upstreamModel ?? id;
  const rewritten = await body.withModel(upstreamId);
  const next = (): { id: string; target: ModelTarget } | undefined => {
    while (chain.length > 0) {
      const candidate = chain.shift()!;
      const t = r.endpoint.models[candidate];
      if (t) return { id: candidate, target: t };
    }
    return undefined;
  };
  const fallback: Fallback | undefined =
    chain.length > 0
      ? {
          available: () => chain.some((m) => r.endpoint.models[m] !== undefined),
          run: (cause) => {
            const to = next();
            if (!to) return;
            r.countFallback(target.ref, id, cause);
            continueWith(r, operation, body, to.id, to.target, chain).catch((err: unknown) =>
              r.fail('internalError', `the fallback failed: ${(err as Error).message}`),
            );
          },
        }
      : undefined;
  r.continueAt(`${target.prefix}/v1/${operation}`, rewritten.bytes, {
    id,
    // An alias goes back in the answer; a fallback's answer names the model that served it, not the one asked for.
    alias: target.upstreamModel ? { upstream: upstreamId, alias: id } : undefined,
    fallback,
    ...(rewritten.contentType ? { contentType: rewritten.contentType } : {}),
  });
}

/** The fallbacks of a model, followed transitively (each id once), in order. */
function fallbackChain(endpoint: OpenAIEndpoint, firstId: string, first: ModelTarget): string[] {
  const out: string[] = [];
  const queue = [...(first.fallbacks ?? [])];
  while (queue.length > 0 && out.length < 16) {
    const id = queue.shift()!;
    if (id === firstId || out.includes(id)) continue;
    out.push(id);
    queue.push(...(endpoint.models[id]?.fallbacks ?? []));
  }
  return out;
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
