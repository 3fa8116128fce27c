/** @fastify/http-proxy (fastify + undici), one upstream.   node fastify-proxy.ts LISTEN UPSTREAM */
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const [listen, upstream] = process.argv.slice(2).map(Number);
const app = Fastify({ logger: false });
await app.register(proxy, { upstream: `http://127.0.0.1:${upstream}`, http2: false });
await app.listen({ port: listen!, host: '127.0.0.1' });
process.stdout.write('ready\n');
