/**
 * One table of upstream behaviours, run against both transports behind the seam: the hand-written client (native) and
 * undici (the reference). Each case is a raw TCP upstream writing exactly the bytes of the case, one or more requests,
 * and what each request must see: status, headers, body, trailers, the failure kind, and how many connections the
 * upstream had to accept (reuse, or its refusal). Where the two clients are meant to differ, the case says so and why.
 *
 * `CONFORMANCE_SHOW=1` prints what each transport saw for every case (to read a failure against the other client).
 */
import assert from 'node:assert/strict';
import type net from 'node:net';
import { after, describe, it } from 'node:test';
import type { FailureKind, TransportKind, UpstreamRequest } from '../../src/dataplane/upstream/transport.ts';
import { type RawRequest, type RawUpstream, rawUpstream } from '../helpers/raw-upstream.ts';
import { delay, exchange, type Outcome, TRANSPORTS, transport } from '../helpers/transport.ts';

interface Expect {
  status?: number;
  body?: string;
  error?: FailureKind;
  /** Header values; `null`: the header must be absent. */
  headers?: Record<string, string | null>;
  trailers?: Record<string, string>;
}

interface Step extends Partial<UpstreamRequest> {
  path: string;
  /** Wait this long before sending (sequential steps). */
  waitMs?: number;
}

interface Case {
  name: string;
  answer: (req: RawRequest, socket: net.Socket) => void;
  answerAtHead?: boolean;
  /** The requests, built per run (a streamed body can be read once). Default: one GET /. */
  steps?: () => Step[];
  /** Send every step at once (they queue on the pool's connections). */
  concurrent?: boolean;
  connections?: number;
  expect: Expect[];
  /** Connections the upstream accepted by the end. */
  upstreamConnections?: number;
  /** Requests the upstream read by the end. */
  upstreamRequests?: number;
  /** An intended difference: what one transport sees instead, and why. */
  differs?: { transport: TransportKind; expect?: Expect[]; upstreamConnections?: number | null; why: string };
}

const ok = (body: string, extra = '') =>
  `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

async function* slowBody(parts: string[], ms: number): AsyncGenerator<Buffer> {
  for (const p of parts) {
    await delay(ms);
    yield Buffer.from(p);
  }
}

const CASES: Case[] = [
  {
    name: 'a Content-Length body; the connection is kept and reused',
    answer: (_r, s) => s.write(ok('ok')),
    steps: () => [{ path: '/1' }, { path: '/2' }],
    expect: [{ status: 200, body: 'ok' }, { body: 'ok' }],
    upstreamConnections: 1,
  },
  {
    name: 'trailers reach their own response only, never the next one on the connection',
    answer: (r, s) =>
      s.write(
        r.index === 1
          ? 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-trailer-secret\r\n\r\n2\r\nok\r\n0\r\nX-Trailer-Secret: from-A\r\n\r\n'
          : ok('B'),
      ),
    steps: () => [{ path: '/a' }, { path: '/b' }],
    expect: [
      { status: 200, body: 'ok', trailers: { 'x-trailer-secret': 'from-A' } },
      { status: 200, body: 'B', headers: { 'x-trailer-secret': null }, trailers: {} },
    ],
    upstreamConnections: 1,
  },
  {
    name: 'trailers split across reads',
    answer: (_r, s) => {
      s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-One: 1\r\n');
      setTimeout(() => s.write('X-Two: 2\r\n\r\n'), 20);
    },
    expect: [{ body: 'abc', trailers: { 'x-one': '1', 'x-two': '2' } }],
  },
  {
    name: 'a response on an idle connection closes it; the next request gets a new one',
    answer: (r, s) => {
      s.write(ok(r.path));
      if (r.index === 1) setTimeout(() => s.write(ok('unsolicited')), 20);
    },
    steps: () => [{ path: '/1' }, { path: '/2', waitMs: 100 }],
    expect: [{ body: '/1' }, { body: '/2' }],
    upstreamConnections: 2,
  },
  {
    name: 'two responses in one read with a request queued: the second never reaches the queued request',
    answer: (r, s) => s.write(r.connection === 1 ? ok('A') + ok('X') : ok('B')),
    steps: () => [{ path: '/a' }, { path: '/b' }],
    concurrent: true,
    expect: [{ body: 'A' }, { body: 'B' }],
    upstreamConnections: 2,
  },
  {
    name: 'a body longer than its Content-Length: the extra bytes are dropped with the connection',
    answer: (r, s) => s.write(r.connection === 1 ? `${ok('ok')}EXTRA BYTES` : ok('fresh')),
    steps: () => [{ path: '/1' }, { path: '/2', waitMs: 20 }],
    expect: [
      { status: 200, body: 'ok' },
      { status: 200, body: 'fresh' },
    ],
    upstreamConnections: 2,
  },
  {
    name: 'a body longer than its Content-Length with a request queued: the queued one gets its own answer',
    answer: (r, s) =>
      s.write(r.connection === 1 ? `${ok('ok')}HTTP/1.1 502 Forged\r\ncontent-length: 0\r\n\r\n` : ok('fresh')),
    steps: () => [{ path: '/1' }, { path: '/2' }],
    concurrent: true,
    expect: [
      { status: 200, body: 'ok' },
      { status: 200, body: 'fresh' },
    ],
    upstreamConnections: 2,
  },
  {
    name: 'bytes after the body in a later read: the idle connection is closed, not handed on',
    answer: (r, s) => {
      s.write(ok(`answer ${r.connection}`));
      if (r.connection === 1) setTimeout(() => s.write('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nforged'), 15);
    },
    steps: () => [{ path: '/1' }, { path: '/2', waitMs: 50 }],
    expect: [{ body: 'answer 1' }, { body: 'answer 2' }],
    upstreamConnections: 2,
  },
  {
    name: '1xx heads, split across reads, are skipped; the final head keeps its own headers',
    answer: (_r, s) => {
      s.write('HTTP/1.1 103 Early');
      setTimeout(() => s.write(' Hints\r\nLink: </a.css>; rel=preload\r\n'), 10);
      setTimeout(() => s.write('\r\nHTTP/1.1 200 OK\r\nx-final: yes\r\ncontent-length: 2\r\n\r\nok'), 20);
    },
    steps: () => [{ path: '/1' }, { path: '/2' }],
    expect: [
      { status: 200, body: 'ok', headers: { link: null, 'x-final': 'yes' } },
      { status: 200, body: 'ok' },
    ],
    upstreamConnections: 1,
  },
  {
    name: 'an unsolicited 100 Continue is skipped like any 1xx (RFC 9110 §15.2)',
    answer: (_r, s) => s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'),
    expect: [{ status: 200, body: 'ok' }],
    differs: {
      transport: 'undici',
      expect: [{ error: 'protocol' }],
      why: 'undici destroys the connection on a 100 Continue it did not ask for (its "bad response")',
    },
  },
  {
    name: 'a final head split across reads',
    answer: (_r, s) => {
      s.write('HTTP/1.1 200 OK\r\nx-a: 1\r\nx-b');
      setTimeout(() => s.write(': 2\r\ncontent-le'), 10);
      setTimeout(() => s.write('ngth: 2\r\n\r\nok'), 20);
    },
    expect: [{ status: 200, body: 'ok', headers: { 'x-a': '1', 'x-b': '2' } }],
  },
  {
    name: 'Content-Length together with Transfer-Encoding is refused',
    answer: (_r, s) =>
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'),
    expect: [{ error: 'protocol' }],
  },
  {
    name: 'two equal Content-Length fields are refused',
    answer: (_r, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nok'),
    expect: [{ error: 'protocol' }],
  },
  {
    name: 'two different Content-Length fields are refused',
    answer: (_r, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok!'),
    expect: [{ error: 'protocol' }],
  },
  {
    name: 'a chunk size that is not hexadecimal',
    answer: (_r, s) => s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n'),
    expect: [{ error: 'protocol' }],
  },
  {
    name: 'a chunk size that overflows 64 bits',
    answer: (_r, s) =>
      s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nfffffffffffffffff1\r\nok\r\n0\r\n\r\n'),
    expect: [{ error: 'protocol' }],
  },
  {
    name: 'a control character in a chunk extension',
    answer: (_r, s) => s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2;a=\x01b\r\nok\r\n0\r\n\r\n'),
    expect: [{ error: 'protocol' }],
  },
  {
    name: 'an obs-folded header line is refused',
    answer: (_r, s) => s.write('HTTP/1.1 200 OK\r\nx-folded: one\r\n two\r\ncontent-length: 2\r\n\r\nok'),
    expect: [{ error: 'protocol' }],
  },
  {
    name: 'a head larger than the limit is refused',
    answer: (_r, s) => s.write(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(80 * 1024)}\r\ncontent-length: 2\r\n\r\nok`),
    expect: [{ error: 'protocol' }],
  },
  {
    name: 'a NUL in a header value is refused',
    answer: (_r, s) => s.write('HTTP/1.1 200 OK\r\nx-a: a\x00b\r\ncontent-length: 2\r\n\r\nok'),
    expect: [{ error: 'protocol' }],
  },
  {
    name: 'a bare CR in a header value is refused',
    answer: (_r, s) => s.write('HTTP/1.1 200 OK\r\nx-a: a\rb\r\ncontent-length: 2\r\n\r\nok'),
    expect: [{ error: 'protocol' }],
  },
  {
    name: 'a bare CR ending the status line',
    answer: (r, s) => s.write(r.path === '/1' ? 'HTTP/1.1 200 OK\r\rcontent-length: 2\r\n\r\nok' : ok('next')),
    steps: () => [{ path: '/1' }, { path: '/2' }],
    expect: [{ error: 'protocol' }, { body: 'next' }],
    differs: {
      transport: 'undici',
      expect: [{ status: 200, body: 'ok' }, { body: 'next' }],
      why: "undici's llhttp build takes a bare CR as a line end; Node's, in strict mode, refuses it (RFC 9112 §2.2 lets a recipient do either)",
    },
  },
  {
    name: 'a Content-Length with whitespace after the number',
    answer: (_r, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\t\r\n\r\nok'),
    steps: () => [{ path: '/1' }, { path: '/2' }],
    expect: [{ status: 200, body: 'ok' }, { body: 'ok' }],
    upstreamConnections: 1,
    differs: {
      transport: 'undici',
      expect: [{ error: 'protocol' }, { error: 'protocol' }],
      upstreamConnections: 2,
      why: 'surrounding whitespace is not part of a field value (RFC 9110 §5.5): Node trims it, undici reads the length with it and refuses the response',
    },
  },
  {
    name: 'an empty Transfer-Encoding in a response is refused',
    answer: (_r, s) => s.end('HTTP/1.1 200 OK\r\ntransfer-encoding:\r\n\r\nbody until the close'),
    expect: [{ error: 'protocol' }],
    differs: {
      transport: 'undici',
      expect: [{ status: 200, body: 'body until the close' }],
      why: "undici's parser reads a body of unknown framing until the close; Node's, in strict mode, refuses the head",
    },
  },
  {
    name: 'a status line that is not one',
    answer: (_r, s) => s.write('HTTP/1.1 2000 OK\r\ncontent-length: 2\r\n\r\nok'),
    expect: [{ error: 'protocol' }],
  },
  {
    name: 'HEAD: the announced length is not read; the connection stays in step',
    answer: (r, s) => s.write(r.method === 'HEAD' ? 'HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n' : ok('next')),
    steps: () => [{ path: '/h', method: 'HEAD' }, { path: '/g' }],
    expect: [
      { status: 200, body: '', headers: { 'content-length': '1000' } },
      { status: 200, body: 'next' },
    ],
    upstreamConnections: 1,
    differs: {
      transport: 'undici',
      upstreamConnections: 2,
      why: 'undici closes the connection after a HEAD answer that announced a length; the native client reuses it (llhttp reads no body for HEAD)',
    },
  },
  {
    name: 'a 204 followed by body bytes: the bytes are not the next response',
    answer: (r, s) =>
      s.write(
        r.connection === 1
          ? 'HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nforged'
          : ok('real'),
      ),
    steps: () => [{ path: '/1' }, { path: '/2', waitMs: 20 }],
    expect: [
      { status: 204, body: '' },
      { status: 200, body: 'real' },
    ],
    upstreamConnections: 2,
  },
  {
    name: 'a 304 with a Content-Length has no body',
    answer: (r, s) => s.write(r.path === '/1' ? 'HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n' : ok('next')),
    steps: () => [{ path: '/1' }, { path: '/2' }],
    expect: [{ status: 304, body: '' }, { body: 'next' }],
    upstreamConnections: 1,
    differs: {
      transport: 'undici',
      upstreamConnections: 2,
      why: 'undici does not reuse a connection after a 304 that announced a length (it cannot tell the bytes apart)',
    },
  },
  {
    name: 'an answer before the request body is sent ends the exchange; the connection is not reused',
    answerAtHead: true,
    answer: (r, s) =>
      s.write(
        r.path === '/upload' ? 'HTTP/1.1 413 Content Too Large\r\ncontent-length: 8\r\n\r\ntoo big!' : ok('again'),
      ),
    steps: () => [
      { path: '/upload', method: 'POST', body: slowBody(['a', 'b', 'c', 'd', 'e'], 30) },
      { path: '/2', waitMs: 20 },
    ],
    expect: [
      { status: 413, body: 'too big!' },
      { status: 200, body: 'again' },
    ],
    upstreamConnections: 2,
    differs: {
      transport: 'undici',
      upstreamConnections: null,
      why: 'undici finishes sending the body and may then reuse the connection (its framing is intact), depending on when the next request comes; the native client always closes a connection whose answer came before the request was fully sent',
    },
  },
  {
    name: 'the upstream closes mid-body',
    answer: (_r, s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this'),
    expect: [{ status: 200, body: 'only this', error: 'reset' }],
  },
  {
    name: 'the upstream closes mid-chunk',
    answer: (_r, s) => s.end('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\na\r\nonly'),
    expect: [{ status: 200, body: 'only', error: 'reset' }],
  },
  {
    name: 'the upstream closes an idle kept-alive connection; the next request opens another',
    answer: (_r, s) => {
      s.write(ok('ok'));
      setTimeout(() => s.end(), 10);
    },
    steps: () => [{ path: '/1' }, { path: '/2', waitMs: 60 }],
    expect: [{ body: 'ok' }, { body: 'ok' }],
    upstreamConnections: 2,
  },
  {
    name: 'a body delimited by the close of the connection',
    answer: (_r, s) => s.end('HTTP/1.1 200 OK\r\n\r\nall of it'),
    steps: () => [{ path: '/1' }, { path: '/2' }],
    expect: [{ status: 200, body: 'all of it' }, { body: 'all of it' }],
    upstreamConnections: 2,
  },
  {
    name: 'Connection: close is honoured',
    answer: (_r, s) => s.write(ok('bye', 'connection: close\r\n')),
    steps: () => [{ path: '/1' }, { path: '/2' }],
    expect: [{ body: 'bye' }, { body: 'bye' }],
    upstreamConnections: 2,
  },
  {
    name: 'an HTTP/1.0 answer without keep-alive is not reused',
    answer: (_r, s) => s.write('HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok'),
    steps: () => [{ path: '/1' }, { path: '/2' }],
    expect: [{ body: 'ok' }, { body: 'ok' }],
    upstreamConnections: 2,
  },
  {
    name: 'a 101 to a request that asked for no upgrade',
    answer: (_r, s) => s.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n'),
    expect: [{ error: 'protocol' }],
  },
  {
    name: 'no head within the head timeout',
    answer: () => {},
    steps: () => [{ path: '/silent', headersTimeout: 100 }],
    expect: [{ error: 'timeout' }],
  },
  {
    name: 'a body that stops within the body timeout',
    answer: (_r, s) => s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n'),
    steps: () => [{ path: '/stall', bodyTimeout: 150 }],
    expect: [{ status: 200, body: 'abc', error: 'timeout' }],
  },
  {
    name: 'a body of several reads arrives whole',
    answer: (_r, s) => s.write(ok('x'.repeat(1024 * 1024))),
    expect: [{ status: 200, body: 'x'.repeat(1024 * 1024) }],
  },
  {
    name: 'request bodies: a Buffer with its length, a stream chunked, a stream with a declared length',
    answer: (r, s) => {
      const te = r.headers.find(([n]) => n === 'transfer-encoding')?.[1];
      const cl = r.headers.find(([n]) => n === 'content-length')?.[1];
      s.write(ok(`${r.method} ${te ?? `length ${cl ?? 'none'}`} ${r.body.toString()}`));
    },
    steps: () => [
      { path: '/a' },
      { path: '/b', method: 'POST', body: Buffer.from('hello'), headers: ['content-length', '5'] },
      { path: '/c', method: 'POST', body: slowBody(['str', 'eamed'], 1) },
      { path: '/d', method: 'PUT', headers: ['content-length', '8'], body: slowBody(['str', 'eamed'], 1) },
    ],
    expect: [
      { body: 'GET length none ' },
      { body: 'POST length 5 hello' },
      { body: 'POST chunked streamed' },
      { body: 'PUT length 8 streamed' },
    ],
    upstreamConnections: 1,
  },
  {
    name: 'a line break in a request header value is never sent',
    answer: (_r, s) => s.write(ok('sent')),
    steps: () => [{ path: '/', headers: ['x-subject', 'alice\r\nx-admin: yes'] }],
    expect: [{ error: 'protocol' }],
    upstreamRequests: 0,
  },
  {
    name: 'a request target with a line break is never sent',
    answer: (_r, s) => s.write(ok('sent')),
    steps: () => [{ path: '/api HTTP/1.1\r\nhost: x\r\n\r\nDELETE /admin' }],
    expect: [{ error: 'protocol' }],
    upstreamRequests: 0,
  },
  {
    name: 'a method that is not a token is never sent',
    answer: (_r, s) => s.write(ok('sent')),
    steps: () => [{ path: '/', method: 'GET /x HTTP/1.1\r\n\r\nDELETE' }],
    expect: [{ error: 'protocol' }],
    upstreamRequests: 0,
  },
];

const upstreams: RawUpstream[] = [];
after(async () => {
  await Promise.all(upstreams.map((u) => u.close()));
});

function check(got: Outcome, want: Expect, label: string): void {
  if (want.error !== undefined)
    assert.equal(got.error?.kind, want.error, `${label}: failure kind (${got.error?.message})`);
  else assert.equal(got.error, undefined, `${label}: unexpected failure ${got.error?.kind}: ${got.error?.message}`);
  if (want.status !== undefined) assert.equal(got.status, want.status, `${label}: status`);
  if (want.body !== undefined) assert.equal(got.body.toString('latin1'), want.body, `${label}: body`);
  for (const [name, value] of Object.entries(want.headers ?? {}))
    assert.equal(got.headers[name], value ?? undefined, `${label}: header ${name}`);
  if (want.trailers !== undefined) assert.deepEqual(got.trailers, want.trailers, `${label}: trailers`);
}

for (const kind of TRANSPORTS) {
  describe(`transport conformance: ${kind}`, () => {
    for (const c of CASES) {
      it(c.name, async () => {
        const up = await rawUpstream(c.answer, { answerAtHead: c.answerAtHead === true });
        upstreams.push(up);
        const t = transport(kind, up.origin, c.connections ?? 1);
        const steps = c.steps?.() ?? [{ path: '/' }];
        let outcomes: Outcome[];
        if (c.concurrent) outcomes = await Promise.all(steps.map((s) => exchange(t, s)));
        else {
          outcomes = [];
          for (const s of steps) {
            if (s.waitMs) await delay(s.waitMs);
            outcomes.push(await exchange(t, s));
          }
        }
        const differs = c.differs?.transport === kind ? c.differs : undefined;
        const expect = differs?.expect ?? c.expect;
        if (process.env.CONFORMANCE_SHOW)
          console.log(
            kind,
            c.name,
            JSON.stringify(
              outcomes.map((o) => ({
                status: o.status,
                body: o.body.toString('latin1').slice(0, 40),
                error: o.error && `${o.error.kind} ${o.error.code ?? ''} ${o.error.message}`,
                trailers: o.trailers,
              })),
            ),
            'connections',
            up.connections(),
          );
        for (const [i, o] of outcomes.entries()) check(o, expect[i]!, `request ${i + 1}`);
        const connections =
          differs?.upstreamConnections === undefined ? c.upstreamConnections : differs.upstreamConnections;
        if (connections !== undefined && connections !== null)
          assert.equal(up.connections(), connections, 'connections the upstream accepted');
        if (c.upstreamRequests !== undefined)
          assert.equal(up.requests.length, c.upstreamRequests, 'requests the upstream read');
        await t.close();
      });
    }
  });
}
