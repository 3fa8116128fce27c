/**
 * What the snapshot gate does not foresee — a defect that throws while one resource is compiled — is traced to that
 * resource by bisection. From files the change is refused naming the resource with its file and line, the last good
 * configuration serving on; from a cluster (any source other than files) the resource is left out with
 * Accepted=False (InternalError) and every other API is served. The defect is injected through the runtime's compile
 * seam: a compiler that throws whenever a ModelAPI named `…boom` is in its input, as a real bug would.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileSnapshot } from '../../src/compiler/compile.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { ResourceSet } from '../../src/resources/types.ts';
import { FileGateway } from '../../src/runtime/file-gateway.ts';
import { loadDirectory } from '../../src/sources/load-directory.ts';
import type { ResourceSource, SourceLoad } from '../../src/sources/resource-source.ts';
import { call, modelApiYaml } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

const defective: typeof compileSnapshot = (resources: ResourceSet, options) => {
  if (resources.modelApis.some((a) => a.metadata.name.endsWith('boom')))
    throw new TypeError('cannot read properties of undefined');
  return compileSnapshot(resources, options);
};

function gateway(dir: string, source?: ResourceSource): FileGateway {
  return new FileGateway({
    configDir: dir,
    ...(source ? { source } : {}),
    port: 0,
    host: '127.0.0.1',
    adminPort: 0,
    adminHost: '127.0.0.1',
    logger: createLogger(process.env.MODELGATE_LOG_LEVEL ?? 'silent'),
    compile: defective,
    watch: false,
  });
}

describe('an unforeseen failure is traced to its resource', () => {
  let up: TestUpstream;
  let dir: string;
  before(async () => {
    up = await startUpstream('model');
    dir = mkdtempSync(join(tmpdir(), 'modelgate-defect-'));
    for (const name of ['a', 'b', 'c', 'd', 'e'])
      writeFileSync(join(dir, `${name}.yaml`), modelApiYaml(name, 'openapi', [{ name: 'v1', url: up.origin }]));
  });
  after(async () => {
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('from files: the change is refused naming the resource, file and line; the last good configuration serves', async () => {
    const gw = gateway(dir);
    try {
      await gw.start();
      const base = `http://127.0.0.1:${gw.port}`;
      assert.equal((await call(`${base}/models/c/x`, { body: '{}' })).status, 200);
      writeFileSync(join(dir, 'boom.yaml'), modelApiYaml('boom', 'openapi', [{ name: 'v1', url: up.origin }]));
      const result = await gw.reload();
      assert.equal(result.applied, false);
      const lines = (gw.configView() as { lastRejectedChange: { diagnostics: string[] } }).lastRejectedChange
        .diagnostics;
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(
        lines[0]!,
        /^boom\.yaml:1:1: error: ModelAPI\/default\/boom: could not be built \(a defect of modelgate\): cannot read properties/,
      );
      assert.equal((await call(`${base}/models/c/x`, { body: '{}' })).status, 200, 'the last good configuration');
    } finally {
      await gw.stop(200);
      rmSync(join(dir, 'boom.yaml'), { force: true });
    }
  });

  it('from a cluster: the resources are left out with Accepted=False, everything else is served', async () => {
    // Two defective resources among seven: bisection finds both.
    writeFileSync(join(dir, 'boom.yaml'), modelApiYaml('boom', 'openapi', [{ name: 'v1', url: up.origin }]));
    writeFileSync(join(dir, 'kaboom.yaml'), modelApiYaml('kaboom', 'openapi', [{ name: 'v1', url: up.origin }]));
    // A source that is not files: it reports what it holds, as the Kubernetes source does.
    const source: ResourceSource = {
      description: 'a test cluster',
      synced: true,
      async load(): Promise<SourceLoad> {
        const load = await loadDirectory(dir);
        return { resources: load.resources, diagnostics: load.diagnostics, hash: load.hash };
      },
      async watch() {},
      async close() {},
    };
    const gw = gateway(dir, source);
    try {
      await gw.start();
      const base = `http://127.0.0.1:${gw.port}`;
      for (const name of ['a', 'b', 'c', 'd', 'e'])
        assert.equal((await call(`${base}/models/${name}/x`, { body: '{}' })).status, 200, name);
      for (const name of ['boom', 'kaboom']) {
        assert.equal((await call(`${base}/models/${name}/x`, { body: '{}' })).status, 404);
        const accepted = gw.statuses.all()[`ModelAPI/default/${name}`]?.conditions.find((c) => c.type === 'Accepted');
        assert.equal(accepted?.status, 'False');
        assert.equal(accepted?.reason, 'InternalError');
        assert.match(accepted?.message ?? '', /could not be built \(a defect of modelgate\)/);
      }
    } finally {
      await gw.stop(200);
    }
  });
});
