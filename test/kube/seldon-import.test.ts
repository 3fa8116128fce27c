/**
 * Seldon Core v2 (issue 25, point 1): Models, Pipelines and Experiments that opt in become ModelAPIs served through
 * Seldon's mesh (a stand-in routing by `seldon-model`, test/helpers/standins/seldon-mesh.ts), in Kubernetes mode
 * against the simulator with Seldon's real CRDs (v2.6.0, test/fixtures/upstream/seldon-core-v2) — typed docs from the
 * metadata the mesh returns (the header goes with the metadata request and the health checks too), an A/B Experiment
 * as weighted, pinnable versions, what does not fit said in the status, and the status written back into the
 * resource's `status.annotations` (the only room Seldon's status schema leaves). The pure mapping is checked against
 * Seldon's own samples.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import type { KubeGateway } from '../../src/runtime/kube/kube-gateway.ts';
import { importSeldonResource } from '../../src/sources/kube/seldon-import.ts';
import { call, eventually } from '../helpers/gateway.ts';
import { KubeApiServer } from '../helpers/kube-apiserver.ts';
import { kubeReplica, serviceObjects } from '../helpers/kube-objects.ts';
import { type SeldonMeshStandIn, startSeldonMesh } from '../helpers/standins/seldon-mesh.ts';

type Json = Record<string, unknown>;
const here = (p: string) => new URL(p, import.meta.url).pathname;
const CRDS = [
  here('../../deploy/crds/modelgate.dev_modelapis.yaml'),
  here('../../deploy/crds/modelgate.dev_modelgateways.yaml'),
  ...['models', 'pipelines', 'experiments'].map((k) =>
    here(`../fixtures/upstream/seldon-core-v2/crd/mlops.seldon.io_${k}.yaml`),
  ),
];
const sample = (file: string) =>
  parse(readFileSync(here(`../fixtures/upstream/seldon-core-v2/samples/${file}`), 'utf8')) as Json;
const S = 'mlops.seldon.io/v1alpha1';
const expose = { 'modelgate.dev/expose': 'true' };

describe('Seldon Core v2 import: the mapping, on Seldon’s samples', () => {
  const withLabels = (o: Json, labels: Record<string, string> = expose) => ({
    ...o,
    metadata: { ...(o.metadata as Json), namespace: 'ml', labels },
  });
  const versionsOf = (r: ReturnType<typeof importSeldonResource>) =>
    r.kind === 'imported' ? ((r.modelApi.spec as Json).versions as Json[]) : [];

  it('a Model → one V2 version through the mesh, addressed by seldon-model, documented from its metadata', () => {
    const r = importSeldonResource(withLabels(sample('models_sklearn2.yaml')), new Set());
    assert.equal(r.kind, 'imported');
    const spec = (r as unknown as { modelApi: { spec: Json } }).modelApi.spec;
    assert.equal(spec.protocol, 'open-inference-v2');
    assert.equal((spec.docs as Json).discover, true);
    assert.deepEqual(versionsOf(r), [
      {
        name: 'v1',
        modelName: 'iris2',
        backend: { service: { name: 'seldon-mesh', port: 80 } },
        requestHeaders: { set: { 'seldon-model': 'iris2' } },
      },
    ]);
  });

  it('a Pipeline → `<name>.pipeline`, with the generic document (its gateway serves no metadata)', () => {
    const r = importSeldonResource(withLabels(sample('pipelines_tfsimples.yaml')), new Set());
    assert.deepEqual((versionsOf(r)[0]!.requestHeaders as Json).set, { 'seldon-model': 'tfsimples.pipeline' });
    assert.equal((r as unknown as { modelApi: { spec: { docs: Json } } }).modelApi.spec.docs.discover, false);
  });

  it('an A/B Experiment → one weighted version per candidate; a mirror or a default stays with the mesh', () => {
    const ab = importSeldonResource(withLabels(sample('experiments_ab.yaml')), new Set());
    assert.deepEqual(
      versionsOf(ab).map((v) => [v.name, v.weight, (v.requestHeaders as { set: Json }).set['seldon-model']]),
      [
        ['iris', 50, 'iris'],
        ['iris2', 50, 'iris2'],
      ],
    );
    const mirror = importSeldonResource(withLabels(sample('experiments_sklearn-mirror.yaml')), new Set());
    assert.equal(mirror.kind, 'not-imported', 'sklearn-mirror has a default: the mesh applies it to iris');
    const { default: _, ...noDefault } = sample('experiments_sklearn-mirror.yaml').spec as Json;
    const mirrored = importSeldonResource(
      withLabels({ ...sample('experiments_sklearn-mirror.yaml'), spec: noDefault }),
      new Set(),
    );
    assert.deepEqual((versionsOf(mirrored)[0]!.requestHeaders as Json).set, {
      'seldon-model': 'sklearn-mirror.experiment',
    });
  });

  it('imports only what opts in (label, annotation or namespace), and reads another mesh Service from an annotation', () => {
    const model = sample('models_sklearn2.yaml');
    assert.equal(importSeldonResource(withLabels(model, {}), new Set()).kind, 'skipped');
    assert.equal(importSeldonResource(withLabels(model, {}), new Set(['ml'])).kind, 'imported');
    const custom = withLabels(model);
    (custom.metadata as Json).annotations = { 'modelgate.dev/seldon-mesh': 'mesh:data' };
    assert.deepEqual(versionsOf(importSeldonResource(custom, new Set()))[0]!.backend, {
      service: { name: 'mesh', port: 'data' },
    });
    (custom.metadata as Json).annotations = { 'modelgate.dev/seldon-mesh': 'not a service' };
    assert.equal(importSeldonResource(custom, new Set()).kind, 'not-imported');
  });
});

describe('Seldon Core v2 import in Kubernetes mode', () => {
  let sim: KubeApiServer;
  let mesh: SeldonMeshStandIn;
  let gw: KubeGateway;
  const base = () => `http://127.0.0.1:${gw.gateway.port}`;
  const annotations = (kind: string, name: string) =>
    ((sim.get(S, kind, 'ml', name)?.status as Json | undefined)?.annotations ?? {}) as Record<string, string>;

  before(async () => {
    sim = new KubeApiServer(CRDS, 200);
    await sim.start();
    mesh = await startSeldonMesh({ models: ['iris', 'iris2'], pipelines: ['tfsimples'] });
    sim.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml' } });
    for (const o of serviceObjects('seldon-mesh', mesh.port, { portName: 'data' })) sim.put(o);
    const put = (file: string, labels: Record<string, string> = expose) => {
      const o = sample(file);
      sim.put({ ...o, metadata: { ...(o.metadata as Json), namespace: 'ml', labels } });
    };
    put('models_sklearn2.yaml'); // iris2
    put('models_sklearn-iris-gs.yaml', {}); // iris, not opted in
    put('pipelines_tfsimples.yaml');
    put('experiments_ab.yaml'); // experiment-iris: iris 50 / iris2 50
    put('experiments_sklearn-mirror.yaml'); // default iris: stays with the mesh
    gw = kubeReplica(sim, 'gw-seldon');
    await gw.start();
  });
  after(async () => {
    await gw?.stop(500);
    await mesh?.close();
    await sim?.stop();
  });

  it('serves an opted-in Model through the mesh, typed from the metadata the mesh returns, and writes status back', async () => {
    await eventually(async () => {
      const doc = (await call(`${base()}/openapi.json`)).json() as { paths?: Json };
      return doc.paths?.['/models/iris2/infer'] !== undefined;
    }, 10_000);
    await eventually(
      () =>
        /synthesized from/.test(
          gw.gateway.statuses.get('ModelAPI/ml/iris2')?.conditions.find((c) => c.type === 'Documented')?.message ?? '',
        ),
      10_000,
    );
    const published = (await call(`${base()}/openapi.json`)).text;
    assert.match(published, /"const":"input-0"/, "the infer schema names the model's input, from its metadata");
    const res = await call(`${base()}/models/iris2/infer`, {
      body: JSON.stringify({
        inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4], data: [6.7, 3, 5.2, 2.3] }],
      }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal((res.json() as { model_name: string }).model_name, 'iris2_1', "Seldon's versioned name");
    const infer = mesh.seen.filter((r) => r.path === '/v2/models/iris2/infer');
    assert.ok(infer.length > 0 && infer.every((r) => r.seldonModel === 'iris2'), 'routed by seldon-model');
    assert.ok(
      mesh.seen.some((r) => r.method === 'GET' && r.path === '/v2/models/iris2' && r.seldonModel === 'iris2'),
      'the metadata request carried the header',
    );
    assert.ok(
      mesh.seen.some((r) => r.path === '/v2/models/iris2/ready' && r.seldonModel === 'iris2'),
      'health too',
    );
    assert.equal((await call(`${base()}/models/iris/infer`, { body: '{}' })).status, 404, 'iris did not opt in');
    await eventually(() => annotations('Model', 'iris2')['modelgate.dev/model-api'] === 'ModelAPI/ml/iris2', 8000);
    const written = annotations('Model', 'iris2');
    assert.equal(written['modelgate.dev/url'], 'https://models.example.com/models/iris2');
    assert.equal(written['modelgate.dev/ready'], 'True');
  });

  it('serves a Pipeline with `<name>.pipeline`, documented generically and saying why', async () => {
    await eventually(async () => (await call(`${base()}/models/tfsimples/infer`, { body: '{}' })).status === 200, 8000);
    assert.equal(mesh.seen.at(-1)!.seldonModel, 'tfsimples.pipeline');
    const doc = (await call(`${base()}/openapi.json`)).json() as { tags: { name: string; description?: string }[] };
    const tag = doc.tags.find((t) => t.name === 'tfsimples');
    assert.match(tag?.description ?? '', /pipeline gateway serves no model metadata/);
    await eventually(() => annotations('Pipeline', 'tfsimples')['modelgate.dev/ready'] === 'True', 8000);
  });

  it('splits an A/B Experiment at the gateway by its weights, each candidate pinnable', async () => {
    await eventually(async () => {
      const r = await call(`${base()}/models/experiment-iris/infer`, {
        body: '{}',
        headers: { 'x-model-version': 'iris2' },
      });
      return r.status === 200 && r.headers['x-model-version'] === 'iris2';
    }, 8000);
    assert.equal(mesh.seen.at(-1)!.seldonModel, 'iris2', 'a candidate is addressed directly, not re-split');
    const pinned = await call(`${base()}/models/experiment-iris/infer`, {
      body: '{}',
      headers: { 'x-model-version': 'iris' },
    });
    assert.equal(pinned.status, 200);
    assert.equal(mesh.seen.at(-1)!.seldonModel, 'iris');
    const served = new Set<string>();
    for (let i = 0; i < 40; i++)
      served.add(
        String((await call(`${base()}/models/experiment-iris/infer`, { body: '{}' })).headers['x-model-version']),
      );
    assert.deepEqual([...served].sort(), ['iris', 'iris2'], 'both candidates take unpinned traffic');
  });

  it('leaves an Experiment with a default to the mesh, and says so', async () => {
    const admin = () => `http://127.0.0.1:${gw.gateway.adminPort}/config`;
    type Statuses = { statuses?: Record<string, { conditions: { reason: string; message: string }[] }> };
    await eventually(
      async () => ((await call(admin())).json() as Statuses).statuses?.['Experiment/ml/sklearn-mirror'] !== undefined,
      8000,
    );
    const status = ((await call(admin())).json() as Statuses).statuses!['Experiment/ml/sklearn-mirror']!;
    assert.equal(status.conditions[0]!.reason, 'NotImported');
    assert.match(status.conditions[0]!.message, /applied by the Seldon mesh to the traffic of iris/);
    assert.equal((await call(`${base()}/models/sklearn-mirror/infer`, { body: '{}' })).status, 404);
  });
});
