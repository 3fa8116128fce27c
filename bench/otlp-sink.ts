/**
 * The benchmark's OTLP/HTTP receiver: takes span exports and drops them (answers 200 with an empty response, as a
 * collector does), so the tracing scenarios measure the gateway's side of tracing. Runs in its own process; prints its
 * port.
 */
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    // An empty ExportTraceServiceResponse, in the encoding of the request (OTLP/HTTP protobuf or JSON).
    const protobuf = String(req.headers['content-type'] ?? '').includes('protobuf');
    res.writeHead(200, { 'content-type': protobuf ? 'application/x-protobuf' : 'application/json' });
    res.end(protobuf ? '' : '{}');
  });
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
