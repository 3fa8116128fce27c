/**
 * The benchmark's model server: answers every request with a fixed ~200-byte V2 inference response, as fast as a
 * single node:http process can; `/sse/{n}/{ms}` streams n server-sent events ms apart (an LLM streaming tokens).
 * Runs in its own process so it never shares an event loop with what is measured.
 */
import { createServer } from 'node:http';

const body = JSON.stringify({
  model_name: 'bench',
  model_version: '1',
  outputs: [
    { name: 'class', datatype: 'INT64', shape: [1], data: [2] },
    { name: 'p', datatype: 'FP32', shape: [3], data: [0.01, 0.04, 0.95] },
  ],
});
const port = Number(process.argv[2] ?? 0);
const server = createServer((req, res) => {
  let streamed = false;
  // An OpenAI-style chat completion with `"stream":true` streams like /sse/50/5 (the OpenAI endpoint scenario).
  if (req.method === 'POST' && req.url === '/v1/chat/completions')
    req.on('data', (c: Buffer) => {
      if (c.includes('"stream":true')) streamed = true;
    });
  req.resume();
  req.on('end', () => {
    const sse = streamed ? ['', '50', '5'] : /^\/sse\/(\d+)\/(\d+)/.exec(req.url ?? '');
    if (!sse) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const [count, gap] = [Number(sse[1]), Number(sse[2])];
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let sent = 0;
    const tick = () => {
      if (res.destroyed) return;
      res.write(`data: {"i":${sent},"t":${performance.timeOrigin + performance.now()},"token":"tok"}\n\n`);
      sent++;
      if (sent < count) setTimeout(tick, gap);
      else res.end('data: [DONE]\n\n');
    };
    tick();
  });
});
server.keepAliveTimeout = 120_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
