/** fast-gateway (restana + fast-proxy-lite): one route, prefix `/gw` stripped like modelgate's.   node fast-gateway.ts LISTEN UPSTREAM */
import gateway from 'fast-gateway';

const [listen, upstream] = process.argv.slice(2).map(Number);
const server = gateway({ routes: [{ prefix: '/gw', target: `http://127.0.0.1:${upstream}` }] });
server.start(listen!, '127.0.0.1').then(() => process.stdout.write('ready\n'));
