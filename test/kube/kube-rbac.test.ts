/**
 * RBAC that is proved, not assumed. The gateway runs every Kubernetes feature at once — ModelAPIs and a ModelGateway
 * with API keys from Secrets, statuses and Events, leader election, document and revision ConfigMaps, the KServe
 * import, the Gateway API with statuses and a BackendTLSPolicy, and an InferencePool with its Pods — against the API-server simulator, which enforces
 * the Roles and bindings rendered from deploy/ (and from the namespaced overlay) for the gateway's ServiceAccount and
 * answers 403 like a real API server. Then:
 *
 * - sufficient: nothing was refused, and traffic and statuses are as they should be;
 * - necessary: every verb of every rule was used (least privilege), and replaying the recorded requests against the
 *   rules with any one rule removed refuses some of them — removing a rule the operator needs fails this test;
 * - narrow (overlay): Secrets and ConfigMaps only in the watched namespaces.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { KubeGateway } from '../../src/runtime/kube/kube-gateway.ts';
import { call, eventually } from '../helpers/gateway.ts';
import { GATEWAY_USER, KubeApiServer, rbacFrom } from '../helpers/kube-apiserver.ts';
import { kubeReplica, serviceObjects } from '../helpers/kube-objects.ts';
import { DEPLOY } from '../helpers/kustomize.ts';
import { type PolicyRule, RbacAuthorizer, type RequestAttributes } from '../helpers/rbac.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

type Json = Record<string, unknown>;
const fixture = (p: string) => new URL(`../fixtures/upstream/${p}`, import.meta.url).pathname;
const CRDS = [
  ...['modelapis', 'modelgateways'].map(
    (k) => new URL(`../../deploy/crds/modelgate.dev_${k}.yaml`, import.meta.url).pathname,
  ),
  fixture('kserve/crd/serving.kserve.io_inferenceservices.yaml'),
  ...['gatewayclasses', 'gateways', 'httproutes', 'referencegrants', 'backendtlspolicies'].map((k) =>
    fixture(`gateway-api/crd-standard/gateway.networking.k8s.io_${k}.yaml`),
  ),
  fixture('gateway-api-inference-extension/crd/inference.networking.k8s.io_inferencepools.yaml'),
  ...['models', 'pipelines', 'experiments'].map((k) => fixture(`seldon-core-v2/crd/mlops.seldon.io_${k}.yaml`)),
];
const SELDON = 'mlops.seldon.io/v1alpha1';
const G = 'gateway.networking.k8s.io/v1';

/** Everything the operator can be asked to do, in the namespace `ml`. */
function seed(sim: KubeApiServer, up: TestUpstream): void {
  sim.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml', labels: { team: 'ml' } } });
  sim.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } });
  sim.put({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'iris', namespace: 'ml' },
    spec: { ports: [{ name: 'http', port: 80 }] },
  });
  sim.put({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'iris-1', namespace: 'ml', labels: { 'kubernetes.io/service-name': 'iris' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: up.port }],
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
  });
  sim.put({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'keys', namespace: 'ml' },
    stringData: { alice: 'key-alice-1' },
  });
  sim.put({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'bob', namespace: 'ml', labels: { 'modelgate.dev/api-key': 'team' } },
    stringData: { bob: 'key-bob-1' },
  });
  sim.put({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'iris-doc', namespace: 'ml' },
    data: {
      'openapi.json': JSON.stringify({
        openapi: '3.1.0',
        info: { title: 'iris', version: '1' },
        paths: { '/predict': { post: { operationId: 'predict', responses: { '200': { description: 'ok' } } } } },
      }),
    },
  });
  sim.put({
    apiVersion: 'modelgate.dev/v1alpha1',
    kind: 'ModelGateway',
    metadata: { name: 'gateway', namespace: 'ml' },
    spec: {
      auth: {
        providers: [
          { name: 'keys', apiKey: { secrets: [{ name: 'keys' }] } },
          { name: 'team', apiKey: { secretSelector: { matchLabels: { 'modelgate.dev/api-key': 'team' } } } },
        ],
      },
    },
  });
  sim.put({
    apiVersion: 'modelgate.dev/v1alpha1',
    kind: 'ModelAPI',
    metadata: { name: 'iris', namespace: 'ml' },
    spec: {
      protocol: 'openapi',
      auth: { providers: ['keys', 'team'] },
      docs: { openAPI: { configMapRef: { name: 'iris-doc', key: 'openapi.json' } } },
      versions: [{ name: 'v1', backend: { service: { name: 'iris', port: 'http' } } }],
    },
  });
  sim.put({
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name: 'flowers', namespace: 'ml', labels: { 'modelgate.dev/expose': 'true' } },
    spec: { predictor: { model: { modelFormat: { name: 'sklearn' }, protocolVersion: 'v2', storageUri: 'gs://m/f' } } },
    status: { address: { url: up.origin } },
  });
  // Seldon Core v2: a Model, a Pipeline and an A/B Experiment that opt in, behind the mesh Service.
  for (const o of serviceObjects('seldon-mesh', up.port, { portName: 'data' })) sim.put(o);
  const exposed = { namespace: 'ml', labels: { 'modelgate.dev/expose': 'true' } };
  sim.put({
    apiVersion: SELDON,
    kind: 'Model',
    metadata: { name: 'tulip', ...exposed },
    spec: { storageUri: 'gs://m/t' },
  });
  sim.put({
    apiVersion: SELDON,
    kind: 'Pipeline',
    metadata: { name: 'bouquet', ...exposed },
    spec: { steps: [{ name: 'tulip' }], output: { steps: ['tulip'] } },
  });
  sim.put({
    apiVersion: SELDON,
    kind: 'Experiment',
    metadata: { name: 'tulip-ab', ...exposed },
    spec: {
      candidates: [
        { name: 'tulip', weight: 50 },
        { name: 'rose', weight: 50 },
      ],
    },
  });
  sim.put({
    apiVersion: G,
    kind: 'GatewayClass',
    metadata: { name: 'modelgate' },
    spec: { controllerName: 'modelgate.dev/gateway-controller' },
  });
  sim.put({
    apiVersion: G,
    kind: 'Gateway',
    metadata: { name: 'edge', namespace: 'ml' },
    spec: { gatewayClassName: 'modelgate', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
  });
  sim.put({
    apiVersion: G,
    kind: 'HTTPRoute',
    metadata: { name: 'web', namespace: 'ml' },
    spec: {
      parentRefs: [{ name: 'edge' }],
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/web' } }], backendRefs: [{ name: 'iris', port: 80 }] },
      ],
    },
  });
  // An InferencePool behind a route, and its Pod (the upstream on loopback, as the kubelet reports a ready Pod).
  sim.put({
    apiVersion: 'inference.networking.k8s.io/v1',
    kind: 'InferencePool',
    metadata: { name: 'llm', namespace: 'ml' },
    spec: {
      selector: { matchLabels: { app: 'llm' } },
      targetPorts: [{ number: up.port }],
      endpointPickerRef: { name: 'llm-epp', port: { number: 9002 } },
    },
  });
  sim.put({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'llm-0', namespace: 'ml', labels: { app: 'llm' } },
    spec: { containers: [{ name: 'vllm', image: 'vllm/vllm-openai' }] },
    status: { phase: 'Running', podIP: '127.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
  });
  sim.put({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'other', namespace: 'ml', labels: { app: 'other' } },
    status: { phase: 'Running', podIP: '127.0.0.9' },
  });
  sim.put({
    apiVersion: G,
    kind: 'HTTPRoute',
    metadata: { name: 'llm', namespace: 'ml' },
    spec: {
      parentRefs: [{ name: 'edge' }],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/pool' } }],
          backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'llm' }],
        },
      ],
    },
  });
  sim.put({
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { name: 'from-ml', namespace: 'ml' },
    spec: {
      from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'ml' }],
      to: [{ group: '', kind: 'Service' }],
    },
  });
  sim.put({
    apiVersion: G,
    kind: 'BackendTLSPolicy',
    metadata: { name: 'iris-tls', namespace: 'ml' },
    spec: {
      targetRefs: [{ group: '', kind: 'Service', name: 'nothing-here' }],
      validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'iris-ca' }], hostname: 'iris.ml.svc' },
    },
  });
}

function replica(sim: KubeApiServer, identity: string, namespaces?: string[]): KubeGateway {
  return kubeReplica(sim, identity, {
    kubeconfigNamespace: 'modelgate-system',
    resyncMs: 1000,
    ...(namespaces ? { namespaces } : {}),
  });
}

const conditionOf = (o: Json | undefined, type: string) =>
  ((o?.status as Json | undefined)?.conditions as { type: string; status: string }[] | undefined)?.find(
    (c) => c.type === type,
  );

/** Runs the whole scenario; resolves with the simulator (stopped) and its record. */
async function runScenario(rbac: readonly Json[], namespaces?: string[]): Promise<KubeApiServer> {
  const sim = new KubeApiServer(CRDS, 200, { rbac });
  await sim.start();
  const up = await startUpstream('model');
  seed(sim, up);
  const gw = replica(sim, 'rbac-a', namespaces);
  try {
    await gw.start();
    const base = `http://127.0.0.1:${gw.gateway.port}`;
    const keyed = { body: '{}', headers: { 'x-api-key': 'key-alice-1' } };
    await eventually(async () => (await call(`${base}/models/iris/predict`, keyed)).status === 200, 8000);
    await eventually(
      async () =>
        (await call(`${base}/models/iris/predict`, { body: '{}', headers: { 'x-api-key': 'key-bob-1' } })).status ===
        200,
      8000,
    );
    await eventually(async () => (await call(`${base}/models/flowers/infer`, { body: '{}' })).status === 200, 8000);
    await eventually(async () => (await call(`${base}/web/x`)).status === 200, 8000);
    await eventually(async () => (await call(`${base}/pool/x`)).status === 200, 8000);
    // Statuses of every kind the operator writes, and an Event.
    await eventually(
      () => conditionOf(sim.get('modelgate.dev/v1alpha1', 'ModelAPI', 'ml', 'iris'), 'Ready')?.status === 'True',
      8000,
    );
    await eventually(
      () => conditionOf(sim.get('modelgate.dev/v1alpha1', 'ModelGateway', 'ml', 'gateway'), 'Accepted') !== undefined,
      8000,
    );
    await eventually(
      () =>
        (sim.get('serving.kserve.io/v1beta1', 'InferenceService', 'ml', 'flowers')?.status as Json)?.modelgate !==
        undefined,
      8000,
    );
    for (const [kind, name] of [
      ['Model', 'tulip'],
      ['Pipeline', 'bouquet'],
      ['Experiment', 'tulip-ab'],
    ])
      await eventually(
        () =>
          ((sim.get(SELDON, kind!, 'ml', name!)?.status as Json | undefined)?.annotations as Json | undefined)?.[
            'modelgate.dev/model-api'
          ] === `ModelAPI/ml/${name}`,
        8000,
      );
    await eventually(
      () => conditionOf(sim.get(G, 'GatewayClass', undefined, 'modelgate'), 'Accepted') !== undefined,
      8000,
    );
    await eventually(() => conditionOf(sim.get(G, 'Gateway', 'ml', 'edge'), 'Programmed')?.status === 'True', 8000);
    await eventually(
      () => ((sim.get(G, 'HTTPRoute', 'ml', 'web')?.status as Json)?.parents as Json[] | undefined)?.length === 1,
      8000,
    );
    await eventually(() => {
      const parents = (sim.get('inference.networking.k8s.io/v1', 'InferencePool', 'ml', 'llm')?.status as Json)
        ?.parents as { conditions: { type: string; status: string }[] }[] | undefined;
      return parents?.length === 1 && parents[0]!.conditions.some((c) => c.type === 'Accepted' && c.status === 'True');
    }, 8000);
    await eventually(() => sim.list('events.k8s.io/v1', 'Event').length > 0, 8000);
    // The published document and the revision history, first written, then rewritten after a change.
    await eventually(() => sim.get('v1', 'ConfigMap', 'ml', 'iris-openapi') !== undefined, 8000);
    await eventually(
      () => sim.list('v1', 'ConfigMap').some((c) => (c.metadata as Json).name === 'iris-revisions-v1'),
      8000,
    );
    const before = (sim.get('v1', 'ConfigMap', 'ml', 'iris-openapi')!.metadata as Json).resourceVersion;
    const doc = sim.get('v1', 'ConfigMap', 'ml', 'iris-doc')!;
    const text = JSON.parse((doc.data as Record<string, string>)['openapi.json']!) as Json;
    (text.paths as Json)['/classify'] = (text.paths as Json)['/predict'];
    sim.put({ ...doc, data: { 'openapi.json': JSON.stringify(text) } });
    await eventually(
      () => (sim.get('v1', 'ConfigMap', 'ml', 'iris-openapi')!.metadata as Json).resourceVersion !== before,
      8000,
    );
    // Leadership: the Lease is held and renewed.
    await eventually(
      () =>
        (sim.get('coordination.k8s.io/v1', 'Lease', 'modelgate-system', 'modelgate-leader')?.spec as Json)
          ?.holderIdentity === 'rbac-a',
      8000,
    );
    const renewed = (
      sim.get('coordination.k8s.io/v1', 'Lease', 'modelgate-system', 'modelgate-leader')!.metadata as Json
    ).resourceVersion;
    await eventually(
      () =>
        (sim.get('coordination.k8s.io/v1', 'Lease', 'modelgate-system', 'modelgate-leader')!.metadata as Json)
          .resourceVersion !== renewed,
      8000,
    );
  } finally {
    await gw.stop(500);
    await up.close();
    await sim.stop();
  }
  return sim;
}

/** The (verb, group, resource) atoms a rule grants, for resource rules. */
function atoms(rule: PolicyRule): string[] {
  return (rule.apiGroups ?? []).flatMap((g) =>
    (rule.resources ?? []).flatMap((r) => rule.verbs.map((v) => `${v} ${g}/${r}`)),
  );
}
const atomOf = (r: RequestAttributes) =>
  'path' in r ? `${r.verb} ${r.path}` : `${r.verb} ${r.group}/${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;

/** Checks that each verb of each rule was used, and that each rule is needed by the recorded requests. */
function assertNecessary(sim: KubeApiServer, rbac: readonly Json[]): void {
  const mine = sim.authorizations.filter((a) => a.user === GATEWAY_USER.name && a.decision.allowed);
  const authorizer = new RbacAuthorizer(rbac);
  const unused: string[] = [];
  for (const { key, rule } of authorizer.rules()) {
    const used = new Set(mine.filter((a) => a.decision.by === key).map((a) => atomOf(a.request)));
    for (const atom of atoms(rule)) if (!used.has(atom)) unused.push(`${key}: ${atom}`);
  }
  assert.deepEqual(unused, [], 'granted but never used: least privilege says remove them');

  for (const { key } of authorizer.rules()) {
    const [ref, index] = key.split('#') as [string, string];
    const without = rbac.map((o) => {
      if (o.kind !== 'ClusterRole' && o.kind !== 'Role') return o;
      const id =
        o.kind === 'ClusterRole'
          ? `ClusterRole/${(o.metadata as Json).name}`
          : `Role/${(o.metadata as Json).namespace}/${(o.metadata as Json).name}`;
      if (id !== ref) return o;
      return { ...o, rules: (o.rules as PolicyRule[]).filter((_, i) => i !== Number(index)) };
    });
    const reduced = new RbacAuthorizer(without);
    const refused = mine.filter((a) => !reduced.authorize(GATEWAY_USER, a.request).allowed);
    assert.ok(refused.length > 0, `without ${key} the operator would still work: the rule is not needed`);
  }
}

describe('RBAC of deploy/ under enforcement', () => {
  let sim: KubeApiServer;
  const rbac = rbacFrom(DEPLOY);
  before(async () => {
    sim = await runScenario(rbac);
  });

  it('is sufficient: every feature works and nothing the operator asked for was refused', () => {
    assert.deepEqual([...new Set(sim.denied)], []);
  });

  it('is necessary: every granted verb is used, and removing any rule refuses a request the operator made', () => {
    assertNecessary(sim, rbac);
  });

  it('a rule removed from deploy/base/rbac.yaml is caught by the same scenario run against it', async () => {
    // The end-to-end version of the replay above, for one rule: Namespaces gone, the gateway is refused.
    const reduced = rbac.map((o) =>
      o.kind === 'ClusterRole'
        ? { ...o, rules: (o.rules as PolicyRule[]).filter((r) => !(r.resources ?? []).includes('namespaces')) }
        : o,
    );
    const denied = await runScenario(reduced).then(
      (s) => s.denied,
      () => undefined,
    );
    // Either the scenario failed outright or the server refused something: both are a caught regression.
    assert.ok(denied === undefined || denied.some((d) => d.includes('"namespaces"')), String(denied));
  });
});

describe('RBAC of the namespaced overlay (deploy/overlays/namespaced) under enforcement', () => {
  let sim: KubeApiServer;
  const rbac = rbacFrom(`${DEPLOY}/overlays/namespaced`);
  before(async () => {
    sim = await runScenario(rbac, ['ml']);
  });

  it('is sufficient for a gateway watching its namespaces', () => {
    assert.deepEqual([...new Set(sim.denied)], []);
  });

  it('is necessary', () => {
    assertNecessary(sim, rbac);
  });

  it('grants Secrets and ConfigMaps in the watched namespaces only', () => {
    const authorizer = new RbacAuthorizer(rbac);
    for (const resource of ['secrets', 'configmaps']) {
      assert.ok(authorizer.authorize(GATEWAY_USER, { verb: 'list', group: '', resource, namespace: 'ml' }).allowed);
      for (const namespace of ['kube-system', 'default', undefined])
        assert.equal(
          authorizer.authorize(GATEWAY_USER, {
            verb: 'get',
            group: '',
            resource,
            ...(namespace ? { namespace } : {}),
            name: 'x',
          }).allowed,
          false,
          `${resource} in ${namespace ?? 'all namespaces'}`,
        );
    }
  });
});
