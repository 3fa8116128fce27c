/**
 * Two modelgate installs in one cluster: each started with `--gateway` naming its ModelGateway serves only the
 * ModelAPIs that name it (and, for the default gateway, those that name none); each leaves the other's resources
 * alone (no "Superseded", no status fight, separate leaders); statuses say which gateway serves a resource; a
 * reference to a ModelGateway that does not exist is reported once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { selectGateway } from '../../src/compiler/select-gateway.ts';
import { EMPTY_RESOURCES } from '../../src/resources/types.ts';
import type { KubeGateway } from '../../src/runtime/kube/kube-gateway.ts';
import type { ModelAPI } from '../../src/schema/model-api.ts';
import type { ModelGateway } from '../../src/schema/model-gateway.ts';
import { call, eventually } from '../helpers/gateway.ts';
import { KubeApiServer } from '../helpers/kube-apiserver.ts';
import { kubeReplica } from '../helpers/kube-objects.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

type Json = Record<string, unknown>;
const CRDS = ['modelapis', 'modelgateways'].map(
  (k) => new URL(`../../deploy/crds/modelgate.dev_${k}.yaml`, import.meta.url).pathname,
);

const gatewayObject = (name: string, annotations: Record<string, string> = {}, created = '2026-01-01T00:00:00Z') => ({
  apiVersion: 'modelgate.dev/v1alpha1',
  kind: 'ModelGateway',
  metadata: { name, namespace: 'ml', annotations, creationTimestamp: created },
  spec: {},
});
const apiObject = (name: string, upstream: string, gatewayRef?: Json) => ({
  apiVersion: 'modelgate.dev/v1alpha1',
  kind: 'ModelAPI',
  metadata: { name, namespace: 'ml' },
  spec: {
    protocol: 'openapi',
    ...(gatewayRef ? { gatewayRef } : {}),
    versions: [{ name: 'v1', backend: { url: upstream } }],
  },
});

describe('which install serves what (select-gateway)', () => {
  const pick = (gateways: Json[], apis: Json[], name?: string) => {
    const s = selectGateway(
      {
        ...EMPTY_RESOURCES,
        modelGateways: gateways as unknown as ModelGateway[],
        modelApis: apis as unknown as ModelAPI[],
      },
      name,
    );
    return {
      gateway: s.name,
      served: s.modelApis.map((a) => a.metadata.name),
      reports: s.statuses.map((x) => `${x.ref} ${x.conditions[0]?.reason}`),
    };
  };
  const up = 'http://127.0.0.1:1';

  it('one install, no --gateway: the oldest ModelGateway, every unreferenced API, the others superseded', () => {
    const r = pick([gatewayObject('b', {}, '2026-02-01T00:00:00Z'), gatewayObject('a')], [apiObject('x', up)]);
    assert.deepEqual(r, { gateway: 'ml/a', served: ['x'], reports: ['ModelGateway/ml/b Superseded'] });
  });

  it('--gateway: the named one; unreferenced APIs only for the default gateway; references to nothing reported by it', () => {
    const gateways = [gatewayObject('a', { 'modelgate.dev/default-gateway': 'true' }), gatewayObject('b')];
    const apis = [apiObject('x', up), apiObject('y', up, { name: 'b' }), apiObject('z', up, { name: 'nope' })];
    assert.deepEqual(pick(gateways, apis, 'ml/a'), {
      gateway: 'ml/a',
      served: ['x'],
      reports: ['ModelAPI/ml/z GatewayNotFound'],
    });
    assert.deepEqual(pick(gateways, apis, 'ml/b'), { gateway: 'ml/b', served: ['y'], reports: [] });
    // The only ModelGateway is the default without the annotation; with two and no annotation, nobody takes the rest.
    assert.deepEqual(pick([gatewayObject('b')], apis, 'ml/b').served, ['x', 'y']);
    assert.deepEqual(pick([gatewayObject('a'), gatewayObject('b')], apis, 'ml/b').served, ['y']);
    // A reference in another namespace.
    assert.deepEqual(pick(gateways, [apiObject('w', up, { name: 'a', namespace: 'ml' })], 'ml/a').served, ['w']);
  });

  it('no --gateway while the reference names another existing ModelGateway: said so, not served', () => {
    const r = pick(
      [gatewayObject('a'), gatewayObject('b', {}, '2026-03-01T00:00:00Z')],
      [apiObject('y', up, { name: 'b' })],
    );
    assert.deepEqual(r.served, []);
    assert.ok(r.reports.includes('ModelAPI/ml/y GatewayNotInEffect'));
  });
});

function install(sim: KubeApiServer, gateway: string): KubeGateway {
  return kubeReplica(sim, `pod-${gateway}`, {
    kubeconfigNamespace: 'modelgate-system',
    gatewayName: `ml/${gateway}`,
    leaseName: `modelgate-leader-ml.${gateway}`,
    publicURL: `https://${gateway}.example.com`,
  });
}

describe('two installs in one cluster', () => {
  let sim: KubeApiServer;
  let up: TestUpstream;
  let a: KubeGateway;
  let b: KubeGateway;
  const status = (name: string) =>
    (sim.get('modelgate.dev/v1alpha1', 'ModelAPI', 'ml', name)?.status ?? {}) as {
      gateway?: string;
      url?: string;
      conditions?: { type: string; status: string; reason: string }[];
    };
  before(async () => {
    sim = new KubeApiServer(CRDS, 200);
    await sim.start();
    up = await startUpstream('model');
    sim.put(gatewayObject('a', { 'modelgate.dev/default-gateway': 'true' }));
    sim.put(gatewayObject('b'));
    sim.put(apiObject('x', up.origin));
    sim.put(apiObject('y', up.origin, { name: 'b' }));
    sim.put(apiObject('z', up.origin, { name: 'nope' }));
    a = install(sim, 'a');
    b = install(sim, 'b');
    await Promise.all([a.start(), b.start()]);
  });
  after(async () => {
    await a?.stop(500);
    await b?.stop(500);
    await up?.close();
    await sim?.stop();
  });

  it('each serves its own ModelAPIs only', async () => {
    const get = (g: KubeGateway, api: string) =>
      call(`http://127.0.0.1:${g.gateway.port}/models/${api}/p`, { body: '{}' });
    await eventually(async () => (await get(a, 'x')).status === 200 && (await get(b, 'y')).status === 200, 8000);
    assert.equal((await get(a, 'y')).status, 404);
    assert.equal((await get(b, 'x')).status, 404);
    assert.equal((await get(a, 'z')).status, 404);
    assert.equal((await get(b, 'z')).status, 404);
  });

  it('statuses say which gateway serves a resource; each install leads on its own Lease', async () => {
    await eventually(() => status('x').gateway === 'ml/a' && status('y').gateway === 'ml/b', 8000);
    assert.equal(status('x').url, 'https://a.example.com/models/x');
    assert.equal(status('y').url, 'https://b.example.com/models/y');
    await eventually(
      () => status('z').conditions?.find((c) => c.type === 'Accepted')?.reason === 'GatewayNotFound',
      8000,
    );
    for (const g of ['a', 'b'])
      assert.equal(
        (sim.get('coordination.k8s.io/v1', 'Lease', 'modelgate-system', `modelgate-leader-ml.${g}`)?.spec as Json)
          ?.holderIdentity,
        `pod-${g}`,
      );
    // Neither tells the other's ModelGateway it is superseded.
    await eventually(() => {
      const accepted = (name: string) =>
        (
          (sim.get('modelgate.dev/v1alpha1', 'ModelGateway', 'ml', name)?.status as Json | undefined)?.conditions as
            | { type: string; reason: string }[]
            | undefined
        )?.find((c) => c.type === 'Accepted')?.reason;
      return accepted('a') === 'Accepted' && accepted('b') === 'Accepted';
    }, 8000);
  });

  it('moving a ModelAPI to the other gateway moves its traffic and its status', async () => {
    sim.put(apiObject('x', up.origin, { name: 'b' }));
    await eventually(
      async () => (await call(`http://127.0.0.1:${b.gateway.port}/models/x/p`, { body: '{}' })).status === 200,
      8000,
    );
    await eventually(
      async () => (await call(`http://127.0.0.1:${a.gateway.port}/models/x/p`, { body: '{}' })).status === 404,
      8000,
    );
    await eventually(
      () => status('x').gateway === 'ml/b' && status('x').url === 'https://b.example.com/models/x',
      8000,
    );
  });
});
