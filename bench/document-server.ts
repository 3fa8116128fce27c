/**
 * The benchmark's documented model server: answers `/openapi.json` with a small OpenAPI document, or — after
 * `POST /mode/big` — with a ≈ 9 MB one (thousands of operations and schemas) whose title changes on every request, so
 * the gateway takes in a new large document on each refresh. Runs in its own process (the bench's own loop blocks
 * while wrk runs). Prints its port.
 */
import { createServer } from 'node:http';

function document(operations: number, serial: number): string {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (let i = 0; i < operations; i++) {
    schemas[`Input${i}`] = {
      type: 'object',
      required: ['field_0'],
      properties: Object.fromEntries(
        Array.from({ length: 12 }, (_, j) => [
          `field_${j}`,
          {
            type: j % 2 ? 'string' : 'number',
            nullable: j % 3 === 0,
            description: `Field ${j} of input ${i}, described at the length real services describe their fields.`,
          },
        ]),
      ),
    };
    paths[`/v1/op${i}/{id}`] = {
      post: {
        operationId: `op${i}`,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { content: { 'application/json': { schema: { $ref: `#/components/schemas/Input${i}` } } } },
        responses: { 200: { description: 'ok', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    };
  }
  return JSON.stringify({
    openapi: '3.0.3',
    info: { title: `served ${serial}`, version: '1' },
    paths,
    components: { schemas },
  });
}

let big = false;
let serial = 0;
const template = document(3700, 0);
const small = document(3, 0);
const server = createServer((req, res) => {
  req.resume();
  if (req.method === 'POST' && req.url?.startsWith('/mode/')) {
    big = req.url === '/mode/big';
    res.end('ok');
    return;
  }
  // A new title each time: the gateway sees a changed document and processes it all again.
  const body = (big ? template : small).replace('"served 0"', `"served ${++serial}"`);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
