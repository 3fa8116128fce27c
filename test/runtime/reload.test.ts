/** Live reconfiguration in file mode: edits, save-by-rename, invalid changes, reloads under load, pool reuse. */
import assert from 'node:assert/strict';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { call, eventually, modelApiYaml, startGateway } from '../helpers/gateway.ts';
import { startUpstream } from '../helpers/upstream.ts';

describe('file reloads', () => {
  it('picks up edits, new files, deletions and editor-style rename saves without a restart', async () => {
    const a = await startUpstream('a');
    const b = await startUpstream('b');
    const gw = await startGateway(
      { 'm.yaml': modelApiYaml('m', 'openapi', [{ name: 'v1', url: a.origin }]) },
      { watch: true },
    );
    const from = async (path: string) => (await call(gw.url + path)).headers['x-from'];
    try {
      assert.equal(await from('/models/m/x'), 'a');
      // Plain edit.
      writeFileSync(join(gw.dir, 'm.yaml'), modelApiYaml('m', 'openapi', [{ name: 'v1', url: b.origin }]));
      await eventually(async () => (await from('/models/m/x')) === 'b');
      // Save by rename (vim, JetBrains): write a temp file, rename it over the original.
      writeFileSync(join(gw.dir, '.m.yaml.tmp'), modelApiYaml('m', 'openapi', [{ name: 'v1', url: a.origin }]));
      renameSync(join(gw.dir, '.m.yaml.tmp'), join(gw.dir, 'm.yaml'));
      await eventually(async () => (await from('/models/m/x')) === 'a');
      // A new file adds an API; deleting it removes it.
      writeFileSync(join(gw.dir, 'n.yaml'), modelApiYaml('n', 'openapi', [{ name: 'v1', url: b.origin }]));
      await eventually(async () => (await from('/models/n/x')) === 'b');
      rmSync(join(gw.dir, 'n.yaml'));
      await eventually(async () => (await call(`${gw.url}/models/n/x`)).status === 404);
    } finally {
      await gw.stop();
      await a.close();
      await b.close();
    }
  });

  it('an invalid change is reported with file, line, column and field, and the last good config keeps serving', async () => {
    const a = await startUpstream('a');
    const gw = await startGateway({ 'm.yaml': modelApiYaml('m', 'openapi', [{ name: 'v1', url: a.origin }]) });
    try {
      const bad = modelApiYaml('m', 'openapi', [{ name: 'v1', url: a.origin }]).replace(
        'protocol: openapi',
        'protocol: soap',
      );
      writeFileSync(join(gw.dir, 'm.yaml'), bad);
      const result = await gw.gateway.reload();
      assert.equal(result.applied, false);
      const error = result.diagnostics.find((d) => d.severity === 'error')!;
      assert.deepEqual(
        { file: error.location?.file, line: error.location?.line, column: error.location?.column, field: error.field },
        { file: 'm.yaml', line: 6, column: 3, field: 'spec.protocol' },
      );
      assert.equal((await call(`${gw.url}/models/m/x`)).status, 200, 'still served by the last good snapshot');
      const config = (await (await fetch(`${gw.adminUrl}/config`)).json()) as {
        lastRejectedChange: { diagnostics: string[] };
      };
      assert.match(
        config.lastRejectedChange.diagnostics[0]!,
        /^m\.yaml:6:3: error: ModelAPI\/default\/m: spec\.protocol: /,
      );
      const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
      assert.match(metrics, /modelgate_config_reloads_total\{result="rejected"\} 1/);
      // A YAML syntax error in another file blocks the whole change too.
      writeFileSync(join(gw.dir, 'm.yaml'), modelApiYaml('m', 'openapi', [{ name: 'v1', url: a.origin }]));
      writeFileSync(join(gw.dir, 'broken.yaml'), 'kind: [');
      assert.equal((await gw.gateway.reload()).applied, false);
      rmSync(join(gw.dir, 'broken.yaml'));
      assert.deepEqual(
        await gw.gateway.reload(),
        { applied: false, changed: false, diagnostics: [] },
        'back to the served state',
      );
      const after = (await (await fetch(`${gw.adminUrl}/config`)).json()) as { lastRejectedChange: unknown };
      assert.equal(after.lastRejectedChange, null);
    } finally {
      await gw.stop();
      await a.close();
    }
  });

  it('reloads under load lose no request, and unchanged upstreams keep their connection pools', async () => {
    const a = await startUpstream('a');
    const b = await startUpstream('b');
    const gw = await startGateway({
      'm.yaml': modelApiYaml('m', 'open-inference-v2', [{ name: 'v1', url: a.origin }]),
      'other.yaml': modelApiYaml('other', 'openapi', [{ name: 'v1', url: b.origin }]),
    });
    try {
      const poolBefore = gw.gateway.registry.poolFor(a.origin);
      let stop = false;
      const failures: string[] = [];
      let done = 0;
      const client = async () => {
        while (!stop) {
          const res = await call(`${gw.url}/models/m/infer`, { body: '{"inputs":[]}' });
          if (res.status !== 200) failures.push(`${res.status} ${res.text}`);
          done++;
        }
      };
      const clients = Array.from({ length: 8 }, client);
      // 20 reloads while 8 clients keep sending: weights and the other API change, m's upstream does not.
      for (let i = 0; i < 20; i++) {
        await gw.write('other.yaml', modelApiYaml('other', 'openapi', [{ name: `v${i}`, url: b.origin }]));
        await gw.write(
          'm.yaml',
          modelApiYaml('m', 'open-inference-v2', [{ name: 'v1', url: a.origin, weight: i + 1 }]),
        );
      }
      stop = true;
      await Promise.all(clients);
      assert.deepEqual(failures, []);
      assert.ok(done > 40, `only ${done} requests were made`);
      assert.equal(gw.gateway.registry.poolFor(a.origin), poolBefore, 'the same pool object served throughout');
      // Removing the API closes its pool once nothing uses it.
      rmSync(join(gw.dir, 'other.yaml'));
      await gw.gateway.reload();
      await eventually(async () => gw.gateway.registry.poolFor(b.origin) === undefined);
    } finally {
      await gw.stop();
      await a.close();
      await b.close();
    }
  });
});
