/**
 * Reading a whole request body, for the policies that must see it before the model does (validation, the cache key,
 * token accounting). Bounded by the route's body limit; everything else streams and never comes here.
 */
import type { IncomingMessage } from 'node:http';

/** The body, or why there is none. */
export type BodyResult =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly error: 'tooLarge' | 'incomplete' | 'aborted' | 'timeout'; readonly detail: string };

/**
 * Whether a request carries a body: a non-zero Content-Length, chunked transfer (HTTP/1.1), or — on HTTP/2, where a
 * body needs neither — any request of a method that has one.
 */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  if (req.headers['transfer-encoding'] !== undefined) return true;
  return req.httpVersionMajor === 2 && !BODYLESS.has(req.method ?? 'GET');
}

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'TRACE']);

/**
 * Reads the request body up to `maxBytes` (a declared length above it is refused without reading), by `deadline`
 * (performance.now() time; the route's request timeout, counted from the request's arrival) when one is given.
 */
export function readRequestBody(req: IncomingMessage, maxBytes: number, deadline?: number): Promise<BodyResult> {
  const declared = req.headers['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > maxBytes)
    return Promise.resolve({
      ok: false,
      error: 'tooLarge',
      detail: `request body exceeds the limit of ${maxBytes} bytes`,
    });
  if (!hasRequestBody(req)) return Promise.resolve({ ok: true, body: Buffer.alloc(0) });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (result: BodyResult) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      req.off('data', onData);
      resolve(result);
    };
    if (deadline !== undefined && Number.isFinite(deadline)) {
      timer = setTimeout(
        () =>
          settle({ ok: false, error: 'timeout', detail: 'the request body did not arrive within the route timeout' }),
        Math.max(deadline - performance.now(), 0),
      );
    }
    // The listener's body timeout: the client went silent mid-body (client-connections.ts).
    req.once('timeout', () => settle({ ok: false, error: 'timeout', detail: 'the request body stalled' }));
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) {
        req.pause(); // the rest is not read: the connection closes after the answer
        settle({ ok: false, error: 'tooLarge', detail: `request body exceeds the limit of ${maxBytes} bytes` });
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (length !== undefined && received !== length)
        settle({
          ok: false,
          error: 'incomplete',
          detail: `request body has ${received} bytes, Content-Length says ${length}`,
        });
      else settle({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received) });
    });
    req.once('error', (err) => settle({ ok: false, error: 'aborted', detail: err.message }));
    req.once('close', () => settle({ ok: false, error: 'aborted', detail: 'the client closed the connection' }));
  });
}
