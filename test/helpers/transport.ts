/** Drives an upstream transport (native or undici) for tests: one exchange in, everything the handler saw out. */

import type {
  TransportKind,
  UpstreamController,
  UpstreamError,
  UpstreamRequest,
  UpstreamTransport,
} from '../../src/dataplane/upstream/transport.ts';
import { createTransport } from '../../src/dataplane/upstream-registry.ts';

export const TRANSPORTS: readonly TransportKind[] = ['native', 'undici'];

/** What one exchange produced. */
export interface Outcome {
  status: number;
  /** Lower-case names → values (repeated ones joined with ", "). */
  headers: Record<string, string>;
  body: Buffer;
  trailers: Record<string, string>;
  error?: UpstreamError;
}

export function transport(kind: TransportKind, origin: string, connections = 1, connectTimeoutMs = 2000) {
  return createTransport(kind, { origin, connections, connectTimeoutMs });
}

/** Sends one request; resolves when the handler saw its end or its error. */
export function exchange(
  t: UpstreamTransport,
  request: Partial<UpstreamRequest> & { path: string },
  onData?: (controller: UpstreamController, chunk: Buffer) => void,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { status: 0, headers: {}, body: Buffer.alloc(0), trailers: {} };
    const chunks: Buffer[] = [];
    let settled = false;
    t.dispatch(
      { method: 'GET', headers: [], body: null, headersTimeout: 5000, bodyTimeout: 5000, ...request },
      {
        onRequestStart() {},
        onResponseStart(_c, status, raw) {
          out.status = status;
          out.headers = record(raw);
        },
        onResponseData(c, chunk) {
          chunks.push(Buffer.from(chunk));
          onData?.(c, chunk);
        },
        onResponseEnd(_c, trailers) {
          if (settled) throw new Error('a second end');
          settled = true;
          out.body = Buffer.concat(chunks);
          out.trailers = record(trailers);
          resolve(out);
        },
        onResponseError(_c, err) {
          if (settled) throw new Error('an error after the end');
          settled = true;
          out.body = Buffer.concat(chunks);
          out.error = err;
          resolve(out);
        },
      },
    );
  });
}

export function record(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    out[name] = out[name] === undefined ? raw[i + 1]! : `${out[name]}, ${raw[i + 1]!}`;
  }
  return out;
}

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
