/**
 * Writes every generated file (CRDs, configuration reference, error catalog) from its single source, or with
 * `--check` fails when a committed file is stale. test/schema/generated.test.ts runs the same check in `npm test`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderRequestHandling } from '../test/fixtures/nginx/render.ts';
import { generatedFiles } from './generated-files.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
let stale = 0;
// The request-handling page is rendered from the tables its tests run (test data, not product source).
const files = { ...generatedFiles(), 'docs/request-handling.md': renderRequestHandling() };
for (const [path, content] of Object.entries(files)) {
  const file = join(root, path);
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) continue;
  if (check) {
    stale++;
    process.stderr.write(`stale: ${path} (run npm run generate)\n`);
  } else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    process.stdout.write(`wrote ${path}\n`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
