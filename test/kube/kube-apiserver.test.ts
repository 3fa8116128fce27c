/**
 * The API-server simulator keeps the semantics the gateway relies on, checked with the real @kubernetes/client-node:
 * merge, JSON and apply patches, 409 on a stale resourceVersion, the status subresource kept apart from the main
 * resource, generation counted on spec changes only, CRD validation, label selectors, and watches that resume from a
 * resourceVersion, send bookmarks, and answer 410 Gone once the history is compacted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { ADMIN_USER, KubeApiServer } from '../helpers/kube-apiserver.ts';

type Json = Record<string, unknown>;

const CRD = new URL('../../deploy/crds/modelgate.dev_modelapis.yaml', import.meta.url).pathname;
const api = (name: string, weight = 1): Json => ({
  apiVersion: 'modelgate.dev/v1alpha1',
  kind: 'ModelAPI',
  metadata: { name, namespace: 'ml', labels: { team: 'a' } },
  spec: { protocol: 'openapi', versions: [{ name: 'v1', weight, backend: { url: 'http://10.0.0.1:8000' } }] },
});
const target = { group: 'modelgate.dev', version: 'v1alpha1', namespace: 'ml', plural: 'modelapis' };

describe('API-server simulator', () => {
  let sim: KubeApiServer;
  let custom: CustomObjectsApi;
  let kc: KubeConfig;
  before(async () => {
    sim = new KubeApiServer([CRD], 100);
    await sim.start();
    kc = new KubeConfig();
    kc.loadFromString(sim.kubeconfig('default', ADMIN_USER));
    custom = kc.makeApiClient(CustomObjectsApi);
  });
  after(() => sim.stop());

  it('patches by merge, JSON patch and apply; counts the generation on spec changes only', async () => {
    const created = (await custom.createNamespacedCustomObject({ ...target, body: api('m') })) as { metadata: Json };
    assert.equal(created.metadata.generation, 1);
    const merged = (await custom.patchNamespacedCustomObject(
      { ...target, name: 'm', body: { spec: { versionHeader: 'x-v' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as { metadata: Json; spec: Json };
    assert.equal(merged.spec.versionHeader, 'x-v');
    assert.equal(merged.metadata.generation, 2);
    const patched = (await custom.patchNamespacedCustomObject(
      { ...target, name: 'm', body: [{ op: 'replace', path: '/spec/versions/0/weight', value: 5 }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    )) as { spec: { versions: { weight: number }[] } };
    assert.equal(patched.spec.versions[0]!.weight, 5);
    const applied = (await custom.patchNamespacedCustomObject(
      { ...target, name: 'applied', body: api('applied'), fieldManager: 'test' },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    )) as { metadata: Json };
    assert.equal(applied.metadata.name, 'applied', 'apply creates what does not exist');
    const labelled = (await custom.patchNamespacedCustomObject(
      { ...target, name: 'm', body: { metadata: { labels: { extra: 'x' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as { metadata: Json };
    assert.equal(labelled.metadata.generation, 3, 'metadata changes do not count');
  });

  it('answers 409 to a write from a stale resourceVersion and 422 to what the CRD forbids', async () => {
    const current = (await custom.getNamespacedCustomObject({ ...target, name: 'm' })) as { metadata: Json };
    const stale = { ...api('m', 7), metadata: { ...(api('m').metadata as Json), resourceVersion: '1' } };
    await assert.rejects(
      custom.replaceNamespacedCustomObject({ ...target, name: 'm', body: stale }),
      (e: { code?: number }) => e.code === 409,
    );
    const fresh = {
      ...api('m', 7),
      metadata: { ...(api('m').metadata as Json), resourceVersion: current.metadata.resourceVersion },
    };
    await custom.replaceNamespacedCustomObject({ ...target, name: 'm', body: fresh });
    const bad = { ...api('bad'), spec: { protocol: 'openapi', versions: [] } };
    await assert.rejects(
      custom.createNamespacedCustomObject({ ...target, body: bad }),
      (e: { code?: number; body?: unknown }) => {
        assert.match(String(e.body), /versions/);
        return e.code === 422;
      },
    );
  });

  it('keeps the status subresource apart from the main resource', async () => {
    await custom.patchNamespacedCustomObjectStatus(
      { ...target, name: 'm', body: { status: { url: 'https://x/models/m' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const withStatus = (await custom.getNamespacedCustomObject({ ...target, name: 'm' })) as {
      status: Json;
      metadata: Json;
    };
    assert.equal(withStatus.status.url, 'https://x/models/m');
    const generation = withStatus.metadata.generation;
    await custom.patchNamespacedCustomObject(
      { ...target, name: 'm', body: { status: { url: 'ignored' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const after = (await custom.getNamespacedCustomObject({ ...target, name: 'm' })) as {
      status: Json;
      metadata: Json;
    };
    assert.equal(after.status.url, 'https://x/models/m', 'the main resource does not write status');
    assert.equal(after.metadata.generation, generation);
  });

  it('selects by label, watches from a resourceVersion with bookmarks, and answers 410 after compaction', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({ namespace: 'ml', body: { metadata: { name: 'k1', labels: { use: 'keys' } } } });
    await core.createNamespacedSecret({ namespace: 'ml', body: { metadata: { name: 'k2' } } });
    const selected = await core.listNamespacedSecret({ namespace: 'ml', labelSelector: 'use=keys' });
    assert.deepEqual(
      selected.items.map((s) => s.metadata?.name),
      ['k1'],
    );
    const from = selected.metadata?.resourceVersion ?? '';
    const events: string[] = [];
    const watch = new Watch(kc);
    const controller = await watch.watch(
      '/api/v1/namespaces/ml/secrets',
      { resourceVersion: from, allowWatchBookmarks: true },
      (type, obj: { metadata?: { name?: string } }) => events.push(`${type} ${obj.metadata?.name ?? ''}`),
      () => {},
    );
    await core.createNamespacedSecret({ namespace: 'ml', body: { metadata: { name: 'k3' } } });
    await new Promise((r) => setTimeout(r, 250));
    controller.abort();
    assert.ok(events.includes('ADDED k3'), events.join(', '));
    assert.ok(!events.includes('ADDED k1'), 'only what happened after the resourceVersion');
    assert.ok(
      events.some((e) => e.startsWith('BOOKMARK')),
      'bookmarks when asked for',
    );
    sim.compact();
    const gone: { type: string; code?: number }[] = [];
    await new Promise<void>((resolve) => {
      void watch.watch(
        '/api/v1/namespaces/ml/secrets',
        { resourceVersion: from },
        (type, obj: { code?: number }) => gone.push({ type, ...(obj.code ? { code: obj.code } : {}) }),
        () => resolve(),
      );
    });
    assert.deepEqual(gone, [{ type: 'ERROR', code: 410 }]);
  });
});
