/** Generated files (CRDs, reference, error catalog) must equal what their sources produce now. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { generatedFiles } from '../../scripts/generated-files.ts';
import { renderRequestHandling } from '../fixtures/nginx/render.ts';

describe('generated files', () => {
  const files = { ...generatedFiles(), 'docs/request-handling.md': renderRequestHandling() };
  for (const [path, content] of Object.entries(files)) {
    it(`${path} is up to date (npm run generate)`, () => {
      const committed = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
      assert.equal(committed, content, `${path} is stale: run npm run generate`);
    });
  }
});
