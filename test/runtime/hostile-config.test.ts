/**
 * A corpus of hostile configuration files (test/fixtures/hostile-config/, each naming what it must be refused for):
 * for every one, `validate`'s decision (checkConfiguration, what the CLI prints) refuses it with a located error, and
 * a serving gateway given the same file keeps its last good configuration answering, never exits, and refuses it
 * for the same reason — validate and serve agree case by case.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Diagnostic } from '../../src/resources/diagnostics.ts';
import { checkConfiguration } from '../../src/runtime/check-configuration.ts';
import { loadDirectory } from '../../src/sources/load-directory.ts';
import { call, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

const CORPUS = new URL('../fixtures/hostile-config/', import.meta.url).pathname;
/** Files that cannot carry a comment say here what they must be refused for. */
const UNCOMMENTED: Record<string, RegExp> = {
  'truncated.json': /YAML/,
  'binary-garbage.yaml': /YAML|control/i,
};

function expectation(file: string): RegExp {
  const declared = /^# expect: (.+)$/m.exec(readFileSync(join(CORPUS, file), 'latin1'))?.[1];
  const pattern = declared !== undefined ? new RegExp(declared) : UNCOMMENTED[file];
  assert.ok(pattern, `${file} says what it must be refused for`);
  return pattern;
}

const errors = (diagnostics: readonly Diagnostic[]) => diagnostics.filter((d) => d.severity === 'error');

describe('hostile configuration files', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    up = await startUpstream('good');
    gw = await startGateway({ 'good.yaml': modelApiYaml('good', 'openapi', [{ name: 'v1', url: up.origin }]) });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  for (const file of readdirSync(CORPUS)
    .filter((f) => !f.endsWith('.md'))
    .sort()) {
    it(file, async () => {
      const want = expectation(file);
      copyFileSync(join(CORPUS, file), join(gw.dir, file));
      try {
        // validate: an error naming the reason, at a place in that file.
        const verdict = checkConfiguration(await loadDirectory(gw.dir));
        const refused = errors(verdict.diagnostics).filter((d) => want.test(d.message));
        assert.ok(refused.length > 0, `validate: ${JSON.stringify(verdict.diagnostics, null, 1).slice(0, 1500)}`);
        for (const d of refused) {
          assert.equal(d.location?.file, file, `located in ${file}: ${JSON.stringify(d)}`);
          assert.ok((d.location?.line ?? 0) >= 1);
        }
        // serve: the reload never throws, the last good configuration keeps answering, and the same reason is given.
        const result = await gw.gateway.reload();
        assert.equal((await call(`${gw.url}/models/good/x`)).status, 200, 'the last good configuration answers');
        const config = (await call(`${gw.adminUrl}/config`)).json() as {
          statuses: Record<string, { conditions: { type: string; status: string; message: string }[] }>;
        };
        const serveReasons = [
          ...errors(result.diagnostics).map((d) => d.message),
          ...Object.values(config.statuses).flatMap((s) =>
            s.conditions.filter((c) => c.type === 'Accepted' && c.status === 'False').map((c) => c.message),
          ),
        ];
        assert.ok(
          serveReasons.some((m) => want.test(m)),
          `serve gives the same reason: ${JSON.stringify(serveReasons).slice(0, 1500)}`,
        );
      } finally {
        rmSync(join(gw.dir, file));
        await gw.gateway.reload();
      }
    });
  }

  it('after the whole corpus the process is alive and serves the good configuration', async () => {
    assert.equal((await call(`${gw.adminUrl}/readyz`)).status, 200);
    assert.equal((await call(`${gw.url}/models/good/x`)).status, 200);
  });
});
