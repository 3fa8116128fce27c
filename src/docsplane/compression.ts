/**
 * Compressed copies of what the portal serves: documents and the Swagger UI / ReDoc bundles (1.7 MB and 1.1 MB of
 * JavaScript) go out with brotli or gzip when the client accepts it. Each body is compressed once, in libuv's thread
 * pool (never on the event loop), and the copy lives as long as the body does (a snapshot's document, or the process
 * for an asset). Brotli at quality 5: a tenth of the time of the maximum quality for a few percent more bytes, as it is
 * done at first request.
 */
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

export type Encoding = 'br' | 'gzip';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);
const copies = new WeakMap<Buffer, Map<Encoding, Promise<Buffer>>>();

/** Bodies smaller than this go as they are: compression would save less than the header costs. */
const MIN_BYTES = 1024;

/** The encoding to send `contentType` in for an `Accept-Encoding` header, or undefined for none. */
export function negotiate(acceptEncoding: string | undefined, contentType: string, size: number): Encoding | undefined {
  if (!acceptEncoding || size < MIN_BYTES || !compressible(contentType)) return undefined;
  let best: Encoding | undefined;
  let bestQ = 0;
  for (const part of acceptEncoding.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'br' && coding !== 'gzip') continue;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find(Boolean);
    const value = q ? Number(q[1]) : 1;
    // Brotli wins a tie: smaller for the same work here.
    if (value > bestQ || (value === bestQ && coding === 'br' && value > 0)) {
      best = coding;
      bestQ = value;
    }
  }
  return bestQ > 0 ? best : undefined;
}

function compressible(contentType: string): boolean {
  return /^text\/|json|javascript|yaml|xml|svg/.test(contentType);
}

/** The body compressed with `encoding`, made once per body. */
export function compressed(body: Buffer, encoding: Encoding): Promise<Buffer> {
  let byEncoding = copies.get(body);
  if (!byEncoding) {
    byEncoding = new Map();
    copies.set(body, byEncoding);
  }
  let copy = byEncoding.get(encoding);
  if (!copy) {
    copy =
      encoding === 'br'
        ? brotli(body, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: 5,
              [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
            },
          })
        : gzipAsync(body, { level: 6 });
    byEncoding.set(encoding, copy);
  }
  return copy;
}
