/** RFC 9457 problem responses built from the error catalog. */
import type { ServerResponse } from 'node:http';
import { ERRORS, type ErrorName } from './catalog.ts';

/** Where the catalog is documented; problem `type` URIs point into it. */
export const ERROR_DOCS_BASE = 'https://modelgate.dev/docs/errors#';

/** A problem details body. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

/** Builds the problem body for a catalog entry. */
export function problemFor(
  name: ErrorName,
  detail: string,
  context: { instance?: string; requestId?: string; extensions?: Record<string, unknown> } = {},
): Problem {
  const e = ERRORS[name];
  const body: Problem = {
    type: ERROR_DOCS_BASE + e.code.toLowerCase(),
    title: e.title,
    status: e.status,
    detail,
    code: e.code,
    ...context.extensions,
  };
  if (context.instance !== undefined) body.instance = context.instance;
  if (context.requestId !== undefined) body.requestId = context.requestId;
  return body;
}

/**
 * A complete HTTP/1.1 problem response as bytes, for connections Node's parser gave up on ('clientError'), where
 * no ServerResponse exists. The connection is closed after it.
 */
export function rawProblemResponse(name: ErrorName, detail: string): string {
  const body = JSON.stringify(problemFor(name, detail));
  const e = ERRORS[name];
  return (
    `HTTP/1.1 ${e.status} ${e.title}\r\ncontent-type: application/problem+json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`
  );
}

/** Writes a problem response unless headers already went out (then the connection is cut, never left hanging). */
export function sendProblem(
  res: ServerResponse,
  name: ErrorName,
  detail: string,
  context: {
    instance?: string;
    requestId?: string;
    extensions?: Record<string, unknown>;
    headers?: Record<string, string>;
  } = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(problemFor(name, detail, context));
  const headers: Record<string, string | number> = {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...context.headers,
  };
  if (context.requestId !== undefined) headers['x-request-id'] = context.requestId;
  res.writeHead(ERRORS[name].status, headers);
  res.end(body);
}
