/**
 * Measures one streamed response path: time to first byte (first event) and how late each event arrives compared
 * with when the upstream stamped it (`"t"`, same machine clock), over N sequential streams (after two uncounted ones). A proxy that holds chunks
 * back shows as a high per-event delay and fewer separate reads than events.
 *
 *   node bench/sse-probe.ts URL STREAMS [JSON-BODY]    → prints one JSON line (with a body: POSTed as JSON)
 */
import { request } from 'undici';

const [url, streamsArg, body] = process.argv.slice(2);
const streams = Number(streamsArg ?? 10);
const ttfb: number[] = [];
const delays: number[] = [];
let reads = 0;
let events = 0;
// Two streams first that are not counted: the probe is a fresh process, and its own first requests (connection,
// cold code) would otherwise be a large part of the time to first byte of every target.
const WARMUP = 2;
for (let s = -WARMUP; s < streams; s++) {
  const started = performance.now();
  const res = await request(
    url!,
    body === undefined ? {} : { method: 'POST', body, headers: { 'content-type': 'application/json' } },
  );
  if (s < 0) {
    await res.body.dump();
    continue;
  }
  let first = true;
  for await (const chunk of res.body) {
    const now = performance.timeOrigin + performance.now();
    if (first) {
      ttfb.push(performance.now() - started);
      first = false;
    }
    reads++;
    for (const m of (chunk as Buffer).toString().matchAll(/"t":([\d.]+)/g)) {
      events++;
      delays.push(now - Number(m[1]));
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)] ?? 0;
process.stdout.write(
  `${JSON.stringify({ ttfbMs: median(ttfb), delayMs: median(delays), delayP99Ms: p99(delays), reads, events })}\n`,
);
