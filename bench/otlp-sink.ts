/**
 * The benchmark's OTLP/HTTP receiver: takes span exports and drops them (answers 200 with an empty response, as a
 * collector does), so the tracing scenarios measure the gateway's side of tracing. Runs in its own process; prints its
 * port.
 */
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
