/**
 * Differential fuzzing of the upstream transports: a generated (and often mutated) response is written by a raw
 * upstream, in random pieces, to the native client and to undici; a second, valid exchange on the same pool then
 * shows whether the connection was reused. Both clients must agree on what the response was — status, headers, body,
 * trailers, failed or not — and on reuse. Used by test/dataplane/transport-fuzz.test.ts (a fixed seed) and `npm run fuzz`.
 *
 * The generator leaves out the few things where the two clients are meant to differ (the conformance table lists
 * them): a 1xx of 100, HEAD, and reuse after a 204/304 that announced a length.
 */
import type net from 'node:net';
import type { TransportKind } from '../../src/dataplane/upstream/transport.ts';
import { rawUpstream } from './raw-upstream.ts';
import { delay, exchange, type Outcome, transport } from './transport.ts';

/** A small fast PRNG (mulberry32): the same seed gives the same cases on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));

/** One generated case: the bytes of the response and how they are cut into writes. */
export interface FuzzCase {
  readonly seed: number;
  readonly response: Buffer;
  /** Write sizes; the last piece takes the rest. */
  readonly pieces: readonly number[];
  /** Close the connection after writing. */
  readonly close: boolean;
  readonly mutated: string;
}

const STATUSES = [200, 200, 200, 201, 204, 206, 301, 304, 400, 404, 500, 502, 503];
const NAMES = ['x-a', 'content-type', 'cache-control', 'x-request-id', 'set-cookie', 'vary', 'server', 'etag', 'x-b'];
const TOKEN_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-_.';

function token(rng: Rng, n = int(rng, 1, 12)): string {
  let s = '';
  for (let i = 0; i < n; i++) s += pick(rng, [...TOKEN_CHARS]);
  return s;
}

function body(rng: Rng): Buffer {
  const n = pick(rng, [0, 1, 5, 17, 100, 1000, 5000, 70_000]);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = 32 + int(rng, 0, 94);
  return b;
}

/** A response in one of the framings, valid before mutation. */
function response(rng: Rng): { bytes: Buffer; close: boolean } {
  const status = pick(rng, STATUSES);
  const version = rng() < 0.9 ? 'HTTP/1.1' : 'HTTP/1.0';
  const lines = [`${version} ${status} ${pick(rng, ['OK', 'Whatever', ''])}`];
  for (let i = int(rng, 0, 5); i > 0; i--) lines.push(`${pick(rng, NAMES)}: ${token(rng)}`);
  if (rng() < 0.1) lines.push('connection: close');
  if (rng() < 0.1) lines.push(`keep-alive: timeout=${int(rng, 2, 30)}`);
  if (version === 'HTTP/1.0' && rng() < 0.5) lines.push('connection: keep-alive');
  const content = body(rng);
  const bodyless = status === 204 || status === 304;
  const framing = bodyless
    ? pick(rng, ['none', 'length'])
    : pick(rng, ['length', 'length', 'chunked', 'chunked', 'eof']);
  let payload: Buffer = Buffer.alloc(0);
  let close =
    lines.includes('connection: close') || (version === 'HTTP/1.0' && !lines.includes('connection: keep-alive'));
  if (framing === 'length') {
    lines.push(`content-length: ${bodyless ? int(rng, 0, 20) : content.length}`);
    if (!bodyless) payload = content;
  } else if (framing === 'chunked') {
    lines.push('transfer-encoding: chunked');
    const parts: Buffer[] = [];
    let at = 0;
    while (at < content.length) {
      const n = Math.min(int(rng, 1, 9000), content.length - at);
      const ext = rng() < 0.1 ? `;${token(rng)}=${token(rng)}` : '';
      parts.push(
        Buffer.from(`${n.toString(16)}${ext}\r\n`, 'latin1'),
        content.subarray(at, at + n),
        Buffer.from('\r\n'),
      );
      at += n;
    }
    let trailer = '';
    for (let i = rng() < 0.3 ? int(rng, 1, 3) : 0; i > 0; i--) trailer += `x-t${i}: ${token(rng)}\r\n`;
    parts.push(Buffer.from(`0\r\n${trailer}\r\n`, 'latin1'));
    payload = Buffer.concat(parts);
  } else if (framing === 'eof') {
    payload = content;
    close = true;
  }
  return { bytes: Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]), close };
}

/** Byte-level mutations a broken or hostile upstream could produce. */
const MUTATIONS: ((rng: Rng, b: Buffer) => Buffer)[] = [
  // flip one byte to something else
  (rng, b) => {
    if (b.length === 0) return b;
    const c = Buffer.from(b);
    c[int(rng, 0, c.length - 1)] = pick(rng, [0, 9, 10, 13, 32, 34, 44, 58, 59, 127, 255, int(rng, 0, 255)]);
    return c;
  },
  // insert a string somewhere
  (rng, b) => {
    const at = int(rng, 0, b.length);
    const s = pick(rng, [
      '\r\n',
      '\n',
      '\r',
      ' ',
      ':',
      '\r\n\r\n',
      'content-length: 3\r\n',
      'transfer-encoding: chunked\r\n',
      '0\r\n\r\n',
      'HTTP/1.1 200 OK\r\n\r\n',
      ';',
      'ffffffffffffffffff',
    ]);
    return Buffer.concat([b.subarray(0, at), Buffer.from(s, 'latin1'), b.subarray(at)]);
  },
  // delete a run
  (rng, b) => {
    const at = int(rng, 0, b.length);
    return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + int(rng, 1, 8)))]);
  },
  // truncate
  (rng, b) => b.subarray(0, int(rng, 0, b.length)),
  // duplicate a header line
  (rng, b) => {
    const text = b.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return b;
    const lines = text.slice(0, end).split('\r\n');
    if (lines.length < 2) return b;
    const i = int(rng, 1, lines.length - 1);
    lines.splice(i, 0, lines[i]!);
    return Buffer.from(lines.join('\r\n') + text.slice(end), 'latin1');
  },
  // append extra bytes after the message
  (rng, b) =>
    Buffer.concat([b, Buffer.from(pick(rng, ['X', '\r\n', 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n']), 'latin1')]),
];

/** The case for a seed. */
export function generate(seed: number): FuzzCase {
  const rng = prng(seed);
  const { bytes, close } = response(rng);
  let out: Buffer = bytes;
  const applied: number[] = [];
  const rounds = rng() < 0.35 ? 0 : int(rng, 1, 3);
  for (let i = 0; i < rounds; i++) {
    const m = int(rng, 0, MUTATIONS.length - 1);
    applied.push(m);
    out = MUTATIONS[m]!(rng, out);
  }
  const pieces: number[] = [];
  for (let left = out.length, n = int(rng, 0, 3); n > 0 && left > 1; n--) {
    const size = int(rng, 1, left - 1);
    pieces.push(size);
    left -= size;
  }
  return { seed, response: out, pieces, close, mutated: applied.join(',') };
}

/** What one transport made of a case, reduced to what both must agree on. */
export interface Verdict {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: string;
  readonly body: string;
  readonly trailers: string;
  /** Whether the follow-up request was served on the same connection. */
  readonly reused: boolean;
  readonly error?: string;
}

const FOLLOW_UP = 'HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nfollow-up';

/** Runs one case against one transport. */
export async function run(kind: TransportKind, c: FuzzCase): Promise<Verdict> {
  const up = await rawUpstream((req, socket: net.Socket) => {
    if (req.path === '/follow-up') {
      socket.write(FOLLOW_UP);
      return;
    }
    void (async () => {
      let at = 0;
      for (const size of c.pieces) {
        socket.write(c.response.subarray(at, at + size));
        at += size;
        await delay(1);
      }
      socket.write(c.response.subarray(at));
      if (c.close) socket.end();
    })();
  });
  const t = transport(kind, up.origin, 1);
  try {
    const first: Outcome = await exchange(t, { path: '/case', headersTimeout: 400, bodyTimeout: 400 });
    // Give a close or stray bytes time to arrive before the connection could be reused.
    await delay(5);
    const second = await exchange(t, { path: '/follow-up', headersTimeout: 2000, bodyTimeout: 2000 });
    const served = up.requests.find((r) => r.path === '/follow-up');
    return {
      ok: first.error === undefined,
      status: first.error === undefined ? first.status : 0,
      headers: first.error === undefined ? JSON.stringify(first.headers) : '',
      body: first.error === undefined ? first.body.toString('latin1') : '',
      trailers: first.error === undefined ? JSON.stringify(first.trailers) : '',
      reused: second.error === undefined && served?.connection === 1,
      ...(first.error ? { error: `${first.error.kind} ${first.error.code ?? ''} ${first.error.message}` } : {}),
    };
  } finally {
    await t.close();
    await up.close();
  }
}

/**
 * The intended differences (each a row of the conformance table): the native client refuses a bare CR where a line
 * must end (llhttp strict), which undici's build accepts; undici refuses a Content-Length with whitespace around
 * it, which Node's parser trims as it does any field value.
 */
function intendedDifference(a: Verdict, b: Verdict, c: FuzzCase): boolean {
  const text = c.response.toString('latin1');
  // An empty or unknown Transfer-Encoding in a response: llhttp (strict) refuses it, undici reads on until the close.
  if (!a.ok && b.ok && /HPE_INVALID_TRANSFER_ENCODING/.test(a.error ?? '')) return true;
  if (!a.ok && b.ok && /\r(?!\n)/.test(text) && /HPE_(STRICT|LF_EXPECTED|CR_EXPECTED)/.test(a.error ?? '')) return true;
  if (a.ok && !b.ok && /content-length:[ \t]*\d+[ \t]+\r|content-length:[ \t]*[ \t]\d/i.test(text)) return true;
  return false;
}

/**
 * Runs a case on both transports and compares; a disagreement where one side only timed out is run once more (a
 * loaded machine can delay a read past the short timeouts; a real disagreement repeats).
 */
export async function compareCase(c: FuzzCase): Promise<{ native: Verdict; undici: Verdict; problems: string[] }> {
  let [native, undici] = await Promise.all([run('native', c), run('undici', c)]);
  let problems = disagreement(native, undici, c);
  const timedOut = (v: Verdict) => /timeout/.test(v.error ?? '');
  if (problems.length > 0 && timedOut(native) !== timedOut(undici)) {
    [native, undici] = await Promise.all([run('native', c), run('undici', c)]);
    problems = disagreement(native, undici, c);
  }
  return { native, undici, problems };
}

/** Where two verdicts disagree (empty: they agree). */
export function disagreement(a: Verdict, b: Verdict, c: FuzzCase): string[] {
  const out: string[] = [];
  if (intendedDifference(a, b, c)) return out;
  if (a.ok !== b.ok) out.push(`failed: native ${a.error ?? 'no'} / undici ${b.error ?? 'no'}`);
  else if (a.ok) {
    if (a.status !== b.status) out.push(`status ${a.status} / ${b.status}`);
    if (a.headers !== b.headers) out.push(`headers ${a.headers} / ${b.headers}`);
    if (a.body !== b.body) out.push(`body of ${a.body.length} / ${b.body.length} bytes`);
    if (a.trailers !== b.trailers) out.push(`trailers ${a.trailers} / ${b.trailers}`);
  }
  // undici does not reuse after a bodyless answer that announced a body (the conformance table's difference).
  const bodylessWithLength =
    (a.status === 204 || a.status === 304) && /content-length|transfer-encoding/i.test(c.response.toString('latin1'));
  if (a.reused !== b.reused && !bodylessWithLength) out.push(`reused: native ${a.reused} / undici ${b.reused}`);
  return out;
}
