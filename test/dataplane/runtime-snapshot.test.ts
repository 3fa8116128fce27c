/**
 * A new runtime snapshot keeps the runtime of every cluster that compiled to the very same object (its ModelAPI did
 * not change): same balancer, retry budget and endpoints, with one more reference on its pools, so retiring the old
 * snapshot closes nothing the new one uses — and retiring both closes everything.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { compileSnapshot } from '../../src/compiler/compile.ts';
import { CompileReuse } from '../../src/compiler/reuse.ts';
import { RuntimeSnapshot } from '../../src/dataplane/runtime-snapshot.ts';
import { UpstreamRegistry } from '../../src/dataplane/upstream-registry.ts';
import { EMPTY_RESOURCES } from '../../src/resources/types.ts';
import type { ModelAPI } from '../../src/schema/model-api.ts';

const modelApi = (name: string, port: number) =>
  ({
    apiVersion: 'modelgate.dev/v1alpha1',
    kind: 'ModelAPI',
    metadata: { name, namespace: 'default' },
    spec: {
      protocol: 'openapi',
      versions: [{ name: 'v1', backend: { url: `http://127.0.0.1:${port}` } }],
      healthCheck: { active: { enabled: false } },
    },
  }) as ModelAPI;

describe('runtime snapshots across reloads', () => {
  it('keep the runtime of unchanged clusters and reference-count their pools', async () => {
    const registry = new UpstreamRegistry();
    const iris = modelApi('iris', 9);
    // As the runtime compiles: with the reuse object it owns, so an unchanged API compiles to the same cluster object.
    const reuse = new CompileReuse();
    const compile = (apis: ModelAPI[]) => compileSnapshot({ ...EMPTY_RESOURCES, modelApis: apis }, { reuse }).snapshot;
    const first = new RuntimeSnapshot(compile([iris, modelApi('wine', 10)]), registry);
    // A reload: iris is the same resource object, wine changed its backend.
    const second = new RuntimeSnapshot(compile([iris, modelApi('wine', 11)]), registry, () => [], first);
    assert.equal(second.clusters.get('default/iris/v1'), first.clusters.get('default/iris/v1'));
    assert.notEqual(second.clusters.get('default/wine/v1'), first.clusters.get('default/wine/v1'));
    assert.equal(registry.poolCount, 3);
    first.retire();
    assert.equal(registry.poolCount, 2, "the old wine pool is closed; iris's is still in use");
    assert.ok(registry.poolFor('http://127.0.0.1:9'));
    second.retire();
    assert.equal(registry.poolCount, 0);
    await registry.close();
  });

  it('let a replaced snapshot go: the new one keeps nothing of it alive', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const registry = new UpstreamRegistry();
    const iris = modelApi('iris', 9);
    const reuse = new CompileReuse();
    const compile = () => compileSnapshot({ ...EMPTY_RESOURCES, modelApis: [iris] }, { reuse }).snapshot;
    let first: RuntimeSnapshot | undefined = new RuntimeSnapshot(compile(), registry);
    const second = new RuntimeSnapshot(compile(), registry, () => [], first);
    const gone = new WeakRef(first);
    first.retire();
    first = undefined;
    await new Promise((resolve) => setImmediate(resolve)); // a WeakRef holds its target until the job ends
    gc();
    assert.equal(gone.deref(), undefined, 'the replaced snapshot is still reachable');
    assert.ok(second.clusters.get('default/iris/v1'));
    second.retire();
    await registry.close();
  });
});
