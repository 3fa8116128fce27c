/**
 * Kubernetes mode against the API-server simulator (test/helpers/kube-apiserver.ts), through the real
 * @kubernetes/client-node: ModelAPIs created, updated and deleted → traffic follows and the status subresource says
 * so (conditions, observedGeneration, URL), with Events; an invalid resource is refused by the CRD schema, a broken one
 * gets a False condition while the rest is served; the API server restarts or forgets its history mid-watch → the
 * gateway recovers by itself; two replicas → one leader writes, the other takes over when it stops.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { KubeGateway } from '../../src/runtime/kube/kube-gateway.ts';
import { type ImportResult, importInferenceService } from '../../src/sources/kube/kserve-import.ts';
import { call, eventually } from '../helpers/gateway.ts';
import { ADMIN_USER, KubeApiServer } from '../helpers/kube-apiserver.ts';
import { kubeReplica, serviceObjects } from '../helpers/kube-objects.ts';
import { startUpstream, type TestUpstream, unusedPort } from '../helpers/upstream.ts';

type Json = Record<string, unknown>;
type Status = {
  observedGeneration?: number;
  url?: string;
  conditions?: { type: string; status: string; reason: string }[];
};

const CRDS = ['deploy/crds/modelgate.dev_modelapis.yaml', 'deploy/crds/modelgate.dev_modelgateways.yaml'].map(
  (f) => new URL(`../../${f}`, import.meta.url).pathname,
);

function modelApi(name: string, service: string, extra: Json = {}): Json {
  return {
    apiVersion: 'modelgate.dev/v1alpha1',
    kind: 'ModelAPI',
    metadata: { name, namespace: 'ml' },
    spec: {
      protocol: 'openapi',
      versions: [{ name: 'v1', backend: { service: { name: service, port: 'http' } } }],
      ...extra,
    },
  };
}

const startReplica = (sim: KubeApiServer, identity: string) => kubeReplica(sim, identity);

describe('Kubernetes mode', () => {
  let sim: KubeApiServer;
  let up: TestUpstream;
  let a: KubeGateway;
  let b: KubeGateway | undefined;
  const url = (g: KubeGateway) => `http://127.0.0.1:${g.gateway.port}`;
  const statusOf = (name: string) =>
    (sim.get('modelgate.dev/v1alpha1', 'ModelAPI', 'ml', name)?.status ?? {}) as Status;
  const condition = (name: string, type: string) => statusOf(name).conditions?.find((c) => c.type === type);

  before(async () => {
    sim = new KubeApiServer(CRDS, 200);
    await sim.start();
    up = await startUpstream('model');
    for (const o of serviceObjects('iris', up.port)) sim.put(o);
    sim.put(
      modelApi('iris', 'iris', {
        docs: {
          openAPI: {
            inline: {
              openapi: '3.1.0',
              info: { title: 'iris', version: '1' },
              paths: { '/predict': { post: { operationId: 'predict', responses: { '200': { description: 'ok' } } } } },
            },
          },
        },
      }),
    );
    a = startReplica(sim, 'gw-a');
    await a.start();
  });
  after(async () => {
    await b?.stop(500);
    await a?.stop(500);
    await up.close();
    await sim.stop();
  });

  it('serves what the API server holds and reports it through the status subresource and Events', async () => {
    await eventually(async () => (await call(`${url(a)}/models/iris/predict`, { body: '{}' })).status === 200, 5000);
    const ready = await call(`http://127.0.0.1:${a.gateway.adminPort}/readyz`);
    assert.equal(ready.status, 200, 'ready once the informers have synced');
    await eventually(() => condition('iris', 'Ready')?.status === 'True', 5000);
    const status = statusOf('iris');
    assert.equal(status.observedGeneration, 1);
    assert.equal(status.url, 'https://models.example.com/models/iris');
    assert.equal(condition('iris', 'Accepted')?.reason, 'Accepted');
    // What the leader found at start is its baseline: no Event per existing resource on every restart.
    assert.ok(!sim.list('events.k8s.io/v1', 'Event').some((e) => (e.regarding as Json).name === 'iris'));
    sim.put(modelApi('fresh', 'iris'));
    await eventually(
      () =>
        sim
          .list('events.k8s.io/v1', 'Event')
          .some((e) => (e.regarding as Json).name === 'fresh' && e.reason === 'Accepted' && e.type === 'Normal'),
      5000,
    );
    sim.delete('modelgate.dev/v1alpha1', 'ModelAPI', 'ml', 'fresh');
    assert.ok(
      sim.requests.some((r) => /^GET \/api\/v1\/services\?/.test(r) || r === 'GET /api/v1/services'),
      'services are listed',
    );
    assert.ok(
      !sim.requests.some((r) => /^GET \/api\/v1\/secrets(\?|$)/.test(r)),
      'never all Secrets: only referenced or selected ones',
    );
  });

  it('says Ready=False (NoHealthyEndpoints) with a Warning Event when no endpoint of a version is healthy', async () => {
    const closed = await unusedPort();
    for (const o of serviceObjects('sick', closed)) sim.put(o);
    sim.put(
      modelApi('sick', 'sick', {
        healthCheck: { active: { path: '/ready', interval: '50ms', unhealthyThreshold: 1 } },
      }),
    );
    await eventually(() => condition('sick', 'Ready')?.reason === 'NoHealthyEndpoints', 5000);
    assert.equal(condition('sick', 'Ready')?.status, 'False');
    await eventually(
      () =>
        sim
          .list('events.k8s.io/v1', 'Event')
          .some(
            (e) => (e.regarding as Json).name === 'sick' && e.reason === 'NoHealthyEndpoints' && e.type === 'Warning',
          ),
      5000,
    );
    sim.delete('modelgate.dev/v1alpha1', 'ModelAPI', 'ml', 'sick');
  });

  it('publishes each API document in a ConfigMap the ModelAPI owns', async () => {
    await eventually(() => sim.get('v1', 'ConfigMap', 'ml', 'iris-openapi') !== undefined, 5000);
    const cm = sim.get('v1', 'ConfigMap', 'ml', 'iris-openapi') as {
      metadata: { ownerReferences: Json[]; annotations: Record<string, string> };
      data: Record<string, string>;
    };
    const uid = (sim.get('modelgate.dev/v1alpha1', 'ModelAPI', 'ml', 'iris')!.metadata as Json).uid;
    assert.deepEqual(cm.metadata.ownerReferences[0], {
      apiVersion: 'modelgate.dev/v1alpha1',
      kind: 'ModelAPI',
      name: 'iris',
      uid,
      controller: true,
      blockOwnerDeletion: false,
    });
    const doc = JSON.parse(cm.data['openapi.json']!) as { openapi: string; paths: Record<string, unknown> };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/models/iris/predict'], Object.keys(doc.paths).join(', '));
    assert.match(cm.metadata.annotations['modelgate.dev/sha256']!, /^[0-9a-f]{64}$/);
  });

  it('keeps the changelog in ConfigMaps the ModelAPI owns, and a new replica continues it', async () => {
    await eventually(() => sim.get('v1', 'ConfigMap', 'ml', 'iris-revisions-v1') !== undefined, 5000);
    const cm = sim.get('v1', 'ConfigMap', 'ml', 'iris-revisions-v1') as {
      metadata: { ownerReferences: Json[] };
      data: Record<string, string>;
    };
    assert.equal(cm.metadata.ownerReferences[0]!.name, 'iris');
    const stored = JSON.parse(cm.data['history.json']!) as { revisions: { revision: number; at: string }[] };
    assert.equal(stored.revisions[0]!.revision, 1);
    const c = startReplica(sim, 'gw-c');
    await c.start();
    try {
      await eventually(async () => {
        const log = (await call(`http://127.0.0.1:${c.gateway.port}/changelog.json`)).json() as {
          revisions: { at: string }[];
        };
        return log.revisions.length === 1 && log.revisions[0]!.at === stored.revisions[0]!.at;
      }, 5000);
    } finally {
      await c.stop(200);
    }
  });

  it('follows updates and deletions, and counts the generation', async () => {
    const updated = modelApi('iris', 'iris', { pathPrefix: '/iris' });
    sim.put(updated);
    await eventually(async () => (await call(`${url(a)}/iris/predict`, { body: '{}' })).status === 200, 5000);
    await eventually(() => statusOf('iris').observedGeneration === 2, 5000);
    assert.equal((await call(`${url(a)}/models/iris/predict`, { body: '{}' })).status, 404);
    sim.delete('modelgate.dev/v1alpha1', 'ModelAPI', 'ml', 'iris');
    await eventually(async () => (await call(`${url(a)}/iris/predict`, { body: '{}' })).status === 404, 5000);
  });

  it('hands the compiler the same objects for unchanged resources, so it reuses what it compiled', async () => {
    const reuseOf = (r: { resources: { modelApis: readonly { metadata: { name: string } }[] } }) =>
      r.resources.modelApis.find((m) => m.metadata.name === 'reuse');
    sim.put(modelApi('reuse', 'iris'));
    await eventually(
      async () => (await a.source.load()).resources.modelApis.some((m) => m.metadata.name === 'reuse'),
      5000,
    );
    const first = await a.source.load();
    const second = await a.source.load();
    assert.ok(reuseOf(first));
    assert.equal(reuseOf(second), reuseOf(first), 'the same ModelAPI object');
    assert.equal(second.resources.services[0], first.resources.services[0], 'the same Service object');
    const { compileSnapshot } = await import('../../src/compiler/compile.ts');
    const { CompileReuse } = await import('../../src/compiler/reuse.ts');
    // As the runtime compiles: with the reuse object it owns.
    const reuse = new CompileReuse();
    const x = compileSnapshot(first.resources, { reuse });
    const y = compileSnapshot(second.resources, { reuse });
    assert.equal(
      y.statuses.find((s) => s.ref.startsWith('ModelAPI/')),
      x.statuses.find((s) => s.ref.startsWith('ModelAPI/')),
    );
    assert.ok(x.snapshot.clusters['ml/reuse/v1']);
    assert.equal(
      y.snapshot.clusters['ml/reuse/v1'],
      x.snapshot.clusters['ml/reuse/v1'],
      'the compiled cluster is reused',
    );
    // A changed resource is a new object (and a new compilation), the others stay.
    sim.put(modelApi('reuse', 'iris', { versionHeader: 'x-reuse-check' }));
    await eventually(async () => reuseOf(await a.source.load()) !== reuseOf(first), 5000);
    assert.equal((await a.source.load()).resources.services[0], first.resources.services[0]);
    sim.delete('modelgate.dev/v1alpha1', 'ModelAPI', 'ml', 'reuse');
  });

  it('refuses a resource that breaks the CRD schema, and reports a broken one while serving the rest', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(sim.kubeconfig('ml', ADMIN_USER));
    const api = kc.makeApiClient(CustomObjectsApi);
    const invalid = modelApi('bad', 'iris', { protocol: 'telnet' });
    await assert.rejects(
      api.createNamespacedCustomObject({
        group: 'modelgate.dev',
        version: 'v1alpha1',
        namespace: 'ml',
        plural: 'modelapis',
        body: invalid,
      }),
      (err: { code?: number }) => err.code === 422,
    );
    await api.createNamespacedCustomObject({
      group: 'modelgate.dev',
      version: 'v1alpha1',
      namespace: 'ml',
      plural: 'modelapis',
      body: modelApi('orphan', 'no-such-service'),
    });
    sim.put(modelApi('iris', 'iris'));
    await eventually(() => condition('orphan', 'ResolvedRefs')?.status === 'False', 5000);
    assert.equal(condition('orphan', 'ResolvedRefs')?.reason, 'BackendNotFound');
    await eventually(async () => (await call(`${url(a)}/models/iris/predict`, { body: '{}' })).status === 200, 5000);
    assert.ok(
      sim
        .list('events.k8s.io/v1', 'Event')
        .some((e) => e.type === 'Warning' && (e.regarding as Json).name === 'orphan'),
    );
  });

  it('recovers by itself when the API server restarts or forgets its history mid-watch', async () => {
    await sim.restart(300);
    sim.put(modelApi('after-restart', 'iris'));
    await eventually(
      async () => (await call(`${url(a)}/models/after-restart/predict`, { body: '{}' })).status === 200,
      8000,
    );
    const lists = () => sim.requests.filter((r) => r === 'GET /apis/modelgate.dev/v1alpha1/modelapis').length;
    const listedBefore = lists();
    // While the gateway is not watching, a change happens and the server forgets the history before it: the
    // resourceVersion the gateway resumes from is gone.
    sim.dropWatches();
    sim.put(modelApi('after-compaction', 'iris'));
    sim.compact();
    await eventually(
      async () => (await call(`${url(a)}/models/after-compaction/predict`, { body: '{}' })).status === 200,
      8000,
    );
    assert.equal(lists(), listedBefore + 1, 'a watch from a forgotten version got 410 and listed again');
  });

  it('elects one leader among replicas; the other takes over when it stops', async () => {
    b = startReplica(sim, 'gw-b');
    await b.start();
    await eventually(async () => (await call(`${url(b!)}/models/iris/predict`, { body: '{}' })).status === 200, 5000);
    const lease = () =>
      sim.get('coordination.k8s.io/v1', 'Lease', 'modelgate-system', 'modelgate-leader')?.spec as Json;
    assert.equal(lease().holderIdentity, 'gw-a');
    assert.equal(a.elector.leading, true);
    assert.equal(b.elector.leading, false);
    // The leader dies without releasing the Lease: the other replica waits it out (1.5 s here), then leads.
    const died = Date.now();
    await a.elector.stop(false);
    await a.writer.settled();
    const acceptedSince = (statusOf('iris').conditions as { type: string; lastTransitionTime?: string }[]).find(
      (c) => c.type === 'Accepted',
    )?.lastTransitionTime;
    await eventually(() => lease().holderIdentity === 'gw-b', 4000);
    assert.ok(Date.now() - died >= 1000, 'not before the lease expired');
    await a.stop(500);
    // The new leader writes what changes from now on.
    sim.put(modelApi('iris', 'iris', { versionHeader: 'x-iris-version' }));
    await eventually(() => statusOf('iris').observedGeneration === 2, 5000);
    const after = (statusOf('iris').conditions as { type: string; lastTransitionTime?: string }[]).find(
      (c) => c.type === 'Accepted',
    )?.lastTransitionTime;
    assert.equal(after, acceptedSince, 'the new leader keeps the transition time of an unchanged condition');
  });
});

describe('modelgate serve --kube', () => {
  it('runs as users start it: kubeconfig, readiness after the sync, traffic, graceful exit', async () => {
    const sim = new KubeApiServer(CRDS, 200);
    await sim.start();
    const up = await startUpstream('model');
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-kube-'));
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, sim.kubeconfig());
    for (const o of serviceObjects('iris', up.port)) sim.put(o);
    sim.put(modelApi('iris', 'iris'));
    const [port, admin] = [await unusedPort(), await unusedPort()];
    const child = spawn(
      process.execPath,
      [
        new URL('../../src/cli.ts', import.meta.url).pathname,
        'serve',
        '--kube',
        '--kubeconfig',
        kubeconfig,
        '--namespaces',
        'ml',
        '--port',
        String(port),
        '--admin-port',
        String(admin),
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, MODELGATE_LOG_LEVEL: 'warn', POD_NAME: 'cli-test', POD_NAMESPACE: 'modelgate-system' },
      },
    );
    try {
      await eventually(async () => {
        try {
          return (await call(`http://127.0.0.1:${admin}/readyz`)).status === 200;
        } catch {
          return false;
        }
      }, 10_000);
      assert.equal((await call(`http://127.0.0.1:${port}/models/iris/predict`, { body: '{}' })).status, 200);
      assert.ok(
        sim.requests.some((r) => r.startsWith('GET /apis/modelgate.dev/v1alpha1/namespaces/ml/modelapis')),
        'watches the namespace asked for',
      );
      await eventually(
        () =>
          (sim.get('coordination.k8s.io/v1', 'Lease', 'modelgate-system', 'modelgate-leader')?.spec as Json | undefined)
            ?.holderIdentity === 'cli-test-0',
        5000,
      );
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      await up.close();
      await sim.stop();
    }
  });
});

describe('KServe import', () => {
  const KSERVE_CRD = new URL(
    '../fixtures/upstream/kserve/crd/serving.kserve.io_inferenceservices.yaml',
    import.meta.url,
  ).pathname;
  let sim: KubeApiServer;
  let stable: TestUpstream;
  let canary: TestUpstream;
  let gw: KubeGateway;
  const isvc = (name: string, labels: Record<string, string>, status: Json, predictor: Json = {}): Json => ({
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name, namespace: 'ml', labels },
    spec: {
      predictor: {
        model: { modelFormat: { name: 'sklearn' }, protocolVersion: 'v2', storageUri: 'gs://models/iris' },
        ...predictor,
      },
    },
    status,
  });
  before(async () => {
    sim = new KubeApiServer([...CRDS, KSERVE_CRD], 200);
    await sim.start();
    [stable, canary] = await Promise.all([startUpstream('stable'), startUpstream('canary')]);
    sim.put(isvc('iris', { 'modelgate.dev/expose': 'true' }, { address: { url: stable.origin } }));
    sim.put(isvc('hidden', {}, { address: { url: stable.origin } }));
    gw = startReplica(sim, 'gw-kserve');
    await gw.start();
  });
  after(async () => {
    await gw.stop(500);
    await stable.close();
    await canary.close();
    await sim.stop();
  });
  const base = () => `http://127.0.0.1:${gw.gateway.port}`;

  it('imports an InferenceService that opts in, with the protocol of its predictor, and says so in its status', async () => {
    await eventually(async () => (await call(`${base()}/models/iris/infer`, { body: '{}' })).status === 200, 8000);
    assert.equal(stable.seen.at(-1)!.url, '/v2/models/iris/infer', 'V2 paths, from protocolVersion v2');
    assert.equal((await call(`${base()}/models/hidden/infer`, { body: '{}' })).status, 404, 'no opt-in, no import');
    await eventually(() => {
      const s = (sim.get('serving.kserve.io/v1beta1', 'InferenceService', 'ml', 'iris')?.status ?? {}) as {
        modelgate?: Json;
      };
      return (
        s.modelgate?.modelAPI === 'ModelAPI/ml/iris' && s.modelgate.url === 'https://models.example.com/models/iris'
      );
    }, 5000);
    const status = sim.get('serving.kserve.io/v1beta1', 'InferenceService', 'ml', 'iris')!.status as Json;
    assert.deepEqual((status.address as Json).url, stable.origin, "KServe's own status is kept");
  });

  it('splits traffic like its canary rollout and lets a revision be pinned; a namespace can opt in as a whole', async () => {
    sim.put(
      isvc(
        'iris',
        { 'modelgate.dev/expose': 'true' },
        {
          address: { url: stable.origin },
          components: {
            predictor: {
              traffic: [
                { tag: 'prev', revisionName: 'iris-predictor-00001', percent: 90, url: stable.origin },
                {
                  tag: 'latest',
                  revisionName: 'iris-predictor-00002',
                  percent: 10,
                  latestRevision: true,
                  url: canary.origin,
                },
              ],
            },
          },
        },
        { canaryTrafficPercent: 10 },
      ),
    );
    await eventually(async () => {
      const r = await call(`${base()}/models/iris/infer`, { body: '{}', headers: { 'x-model-version': 'latest' } });
      return r.status === 200 && r.headers['x-model-version'] === 'latest';
    }, 8000);
    assert.equal(canary.seen.at(-1)!.url, '/v2/models/iris/infer');
    sim.put({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'ml', labels: { 'modelgate.dev/kserve-import': 'enabled' } },
    });
    await eventually(async () => (await call(`${base()}/models/hidden/infer`, { body: '{}' })).status === 200, 8000);
  });
});

describe('Gateway API in Kubernetes mode', () => {
  const GATEWAY_CRDS = ['gatewayclasses', 'gateways', 'httproutes', 'referencegrants', 'backendtlspolicies'].map(
    (k) =>
      new URL(`../fixtures/upstream/gateway-api/crd-standard/gateway.networking.k8s.io_${k}.yaml`, import.meta.url)
        .pathname,
  );
  let sim: KubeApiServer;
  let up: TestUpstream;
  let gw: KubeGateway;
  before(async () => {
    sim = new KubeApiServer([...CRDS, ...GATEWAY_CRDS], 200);
    await sim.start();
    up = await startUpstream('web');
    for (const o of serviceObjects('web', up.port)) sim.put(o);
    const g = 'gateway.networking.k8s.io/v1';
    sim.put({
      apiVersion: g,
      kind: 'GatewayClass',
      metadata: { name: 'modelgate' },
      spec: { controllerName: 'modelgate.dev/gateway-controller' },
    });
    sim.put({
      apiVersion: g,
      kind: 'Gateway',
      metadata: { name: 'edge', namespace: 'ml' },
      spec: { gatewayClassName: 'modelgate', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
    });
    sim.put({
      apiVersion: g,
      kind: 'HTTPRoute',
      metadata: { name: 'web', namespace: 'ml' },
      spec: {
        parentRefs: [{ name: 'edge' }],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/web' } }], backendRefs: [{ name: 'web', port: 80 }] },
        ],
      },
    });
    gw = startReplica(sim, 'gw-gateway-api');
    await gw.start();
  });
  after(async () => {
    await gw.stop(500);
    await up.close();
    await sim.stop();
  });

  it('serves HTTPRoutes from the API server and writes route, Gateway and GatewayClass statuses', async () => {
    await eventually(async () => (await call(`http://127.0.0.1:${gw.gateway.port}/web/hello`)).status === 200, 8000);
    assert.equal(up.seen.at(-1)!.url, '/web/hello');
    await eventually(() => {
      const parents = (
        (sim.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'ml', 'web')?.status ?? {}) as { parents?: Json[] }
      ).parents;
      return parents?.length === 1;
    }, 5000);
    const parent = (sim.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'ml', 'web')!.status as { parents: Json[] })
      .parents[0] as {
      parentRef: Json;
      controllerName: string;
      conditions: { type: string; status: string; observedGeneration?: number }[];
    };
    assert.equal(parent.controllerName, 'modelgate.dev/gateway-controller');
    assert.deepEqual(parent.parentRef, {
      group: 'gateway.networking.k8s.io',
      kind: 'Gateway',
      namespace: 'ml',
      name: 'edge',
    });
    assert.equal(parent.conditions.find((c) => c.type === 'Accepted')?.status, 'True');
    assert.equal(parent.conditions.find((c) => c.type === 'ResolvedRefs')?.status, 'True');
    assert.equal(parent.conditions[0]!.observedGeneration, 1);
    await eventually(() => {
      const g = sim.get('gateway.networking.k8s.io/v1', 'Gateway', 'ml', 'edge')?.status as
        | { conditions?: { type: string; status: string }[] }
        | undefined;
      const c = sim.get('gateway.networking.k8s.io/v1', 'GatewayClass', undefined, 'modelgate')?.status as
        | { conditions?: { type: string }[] }
        | undefined;
      return (
        g?.conditions?.some((x) => x.type === 'Programmed' && x.status === 'True') === true &&
        c?.conditions?.[0]?.type === 'Accepted'
      );
    }, 5000);
    const listeners = (
      sim.get('gateway.networking.k8s.io/v1', 'Gateway', 'ml', 'edge')!.status as { listeners: Json[] }
    ).listeners;
    assert.deepEqual(
      listeners.map((l) => [l.name, l.attachedRoutes, (l.supportedKinds as Json[]).map((k) => k.kind)]),
      [['http', 1, ['HTTPRoute']]],
    );
  });
});

describe('Kubernetes mode: one broken route cannot take the replicas down', () => {
  const GATEWAY_CRDS = ['gatewayclasses', 'gateways', 'httproutes', 'referencegrants', 'backendtlspolicies'].map(
    (k) =>
      new URL(`../fixtures/upstream/gateway-api/crd-standard/gateway.networking.k8s.io_${k}.yaml`, import.meta.url)
        .pathname,
  );
  let sim: KubeApiServer;
  let up: TestUpstream;
  let gw: KubeGateway;
  before(async () => {
    sim = new KubeApiServer([...CRDS, ...GATEWAY_CRDS], 200);
    await sim.start();
    up = await startUpstream('web');
    for (const o of serviceObjects('web', up.port)) sim.put(o);
    const g = 'gateway.networking.k8s.io/v1';
    sim.put({
      apiVersion: g,
      kind: 'GatewayClass',
      metadata: { name: 'modelgate' },
      spec: { controllerName: 'modelgate.dev/gateway-controller' },
    });
    sim.put({
      apiVersion: g,
      kind: 'Gateway',
      metadata: { name: 'edge', namespace: 'ml' },
      spec: {
        gatewayClassName: 'modelgate',
        listeners: [{ name: 'http', protocol: 'HTTP', port: 80, allowedRoutes: { namespaces: { from: 'All' } } }],
      },
    });
    const route = (name: string, namespace: string, path: { type: string; value: string }) => ({
      apiVersion: g,
      kind: 'HTTPRoute',
      metadata: { name, namespace },
      spec: {
        parentRefs: [{ name: 'edge', namespace: 'ml' }],
        rules: [{ matches: [{ path }], backendRefs: [{ name: 'web', namespace: 'ml', port: 80 }] }],
      },
    });
    sim.put(route('web', 'ml', { type: 'PathPrefix', value: '/web' }));
    // Another team's route: valid for the API server (the CRD has no pattern for it), not for RE2.
    sim.put(route('broken', 'other', { type: 'RegularExpression', value: '/models/(unclosed' }));
    // The replica starts with the broken route already there (a restart must not crash-loop).
    gw = startReplica(sim, 'gw-broken-route');
    await gw.start();
  });
  after(async () => {
    await gw.stop(500);
    await up.close();
    await sim.stop();
  });

  it('starts, serves the other routes, and marks the broken one Accepted=False (UnsupportedValue)', async () => {
    await eventually(async () => (await call(`http://127.0.0.1:${gw.gateway.port}/web/x`)).status === 200, 8000);
    await eventually(() => {
      const parents = (
        (sim.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'other', 'broken')?.status ?? {}) as {
          parents?: { conditions: { type: string; status: string; reason: string; message: string }[] }[];
        }
      ).parents;
      const accepted = parents?.[0]?.conditions.find((c) => c.type === 'Accepted');
      return (
        accepted?.status === 'False' &&
        accepted.reason === 'UnsupportedValue' &&
        /does not compile/.test(accepted.message)
      );
    }, 8000);
    assert.equal((await call(`http://127.0.0.1:${gw.gateway.adminPort}/readyz`)).status, 200);
  });
});

describe('KServe import rules', () => {
  const isvc = (
    model: Json,
    labels: Record<string, string> = { 'modelgate.dev/expose': 'true' },
    status: Json = { address: { url: 'http://iris.ml.svc.cluster.local' } },
  ) => ({
    metadata: { name: 'iris', namespace: 'ml', labels },
    spec: { predictor: { model } },
    status,
  });
  const protocolOf = (r: ImportResult) =>
    r.kind === 'imported' ? ((r.modelApi.spec as Json).protocol as string) : r.kind;

  it('takes the protocol from protocolVersion, else from the runtime (Triton speaks V2), else KServe V1', () => {
    assert.equal(protocolOf(importInferenceService(isvc({ protocolVersion: 'v2' }), new Set())), 'open-inference-v2');
    assert.equal(
      protocolOf(importInferenceService(isvc({ runtime: 'kserve-tritonserver' }), new Set())),
      'open-inference-v2',
    );
    assert.equal(
      protocolOf(importInferenceService(isvc({ modelFormat: { name: 'sklearn' } }), new Set())),
      'kserve-v1',
    );
  });

  it('imports only what opted in, and waits for an address', () => {
    assert.equal(importInferenceService(isvc({}, {}), new Set()).kind, 'skipped');
    assert.equal(importInferenceService(isvc({}, {}), new Set(['ml'])).kind, 'imported', 'the namespace opted in');
    assert.equal(importInferenceService(isvc({}, undefined, {}), new Set()).kind, 'pending');
  });
});
