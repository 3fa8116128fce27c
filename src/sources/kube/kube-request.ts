/**
 * Raw reads from the API server through the client library's own authentication and TLS (its RequestContext), so
 * lists come back exactly as the server sent them (the typed clients turn timestamps into Dates and drop fields
 * they do not know; watch events are raw JSON, and both must look the same in the cache).
 */
import { HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { fetch } from 'undici';

/** An error answer of the API server. */
export class KubeError extends Error {
  readonly statusCode: number;
  readonly reason: string;

  constructor(statusCode: number, reason: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.reason = reason;
  }
}

/** GETs `path` (with query) and parses the JSON answer; throws KubeError for an error status. */
export async function kubeGet(kc: KubeConfig, path: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = `${cluster.server}${path}`;
  const ctx = new RequestContext(url, HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  const res = await fetch(url, {
    method: 'GET',
    headers: ctx.getHeaders(),
    dispatcher: ctx.getDispatcher() as never,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // an error page that is not a Status object
  }
  if (res.status >= 400)
    throw new KubeError(
      res.status,
      String(body.reason ?? res.statusText),
      String(body.message ?? `HTTP ${res.status} for ${path}`),
    );
  return body;
}
