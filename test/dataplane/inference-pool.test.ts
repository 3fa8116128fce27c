/**
 * InferencePool backends (Gateway API Inference Extension) in file mode: an HTTPRoute whose backendRef is an
 * InferencePool reaches the pool's ready Pods — simulated vLLM replicas on two loopback addresses with the pool's one
 * target port, as two Pods would be — picked by modelgate's InferenceAware balancer (a repeated prompt stays where its
 * prefix is cached); a Pod that is not Ready gets nothing; the pool's status names each parent Gateway with Accepted
 * and ResolvedRefs as the CRD defines them (and says the endpoint picker is not called); a missing pool, a pool in
 * another namespace without a ReferenceGrant and an h2c pool are refused with the standard reasons. Then the
 * Inference Extension's own conformance manifests (InferencePoolAccepted) as published, with one Pod.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { startSimulator } from '../../examples/servers/vllm-simulator.ts';
import { call, eventually, gatewayYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { type Replica, simulatorChat } from '../helpers/simulated-llm.ts';
import { unusedPort } from '../helpers/upstream.ts';

const pod = (name: string, ip: string, ready: boolean, labels = '{app: llm}') => `---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: ${labels}}
status:
  phase: Running
  podIP: ${ip}
  conditions: [{type: Ready, status: "${ready ? 'True' : 'False'}"}]
`;

const pool = (name: string, port: number, extra = '') => `---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {app: llm}}
  targetPorts: [{number: ${port}}]
  endpointPickerRef: {name: ${name}-epp, port: {number: 9002}}
${extra}`;

const route = (name: string, path: string, backend: string) => `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}}
spec:
  parentRefs: [{name: gw}]
  rules:
    - matches: [{path: {type: PathPrefix, value: ${path}}}]
      filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
      backendRefs: [${backend}]
`;

describe('InferencePool backends', () => {
  const replicas: Replica[] = [];
  let gw: TestGateway;
  let port: number;

  before(async () => {
    port = await unusedPort();
    // Two "Pods": the same target port on two loopback addresses; a third, not ready, on a third address.
    for (const host of ['127.0.0.2', '127.0.0.3', '127.0.0.4'])
      replicas.push(await startSimulator({ timeScale: 0.02 }, port, host));
    gw = await startGateway({
      'gateway.yaml': gatewayYaml(),
      'pods.yaml': pod('llm-0', '127.0.0.2', true) + pod('llm-1', '127.0.0.3', true) + pod('llm-2', '127.0.0.4', false),
      'pool.yaml': pool('llm', port),
      'route.yaml': route('llm', '/llm', '{group: inference.networking.k8s.io, kind: InferencePool, name: llm}'),
      'bad.yaml':
        route('missing', '/missing', '{group: inference.networking.k8s.io, kind: InferencePool, name: nowhere}') +
        route(
          'other-ns',
          '/other',
          '{group: inference.networking.k8s.io, kind: InferencePool, name: llm, namespace: team-b}',
        ) +
        pool('llm', port).replace('metadata: {name: llm}', 'metadata: {name: llm, namespace: team-b}') +
        pool('h2c', port, '  appProtocol: kubernetes.io/h2c\n') +
        route('h2c', '/h2c', '{group: inference.networking.k8s.io, kind: InferencePool, name: h2c}'),
    });
  });
  after(async () => {
    await gw?.stop();
    for (const r of replicas) r.server.close();
  });

  it('reaches the pool’s ready Pods, keeping a prompt where its prefix is cached', async () => {
    const system = `You summarise filings. ${'Section text that repeats itself at length. '.repeat(50)}`;
    const before = replicas.map((r) => r.engine.counters.submitted);
    for (let i = 0; i < 6; i++) {
      const res = await call(`${gw.url}/llm/v1/chat/completions`, simulatorChat(system, `question ${i}`));
      assert.equal(res.status, 200, res.text);
    }
    const got = replicas.map((r, i) => r.engine.counters.submitted - before[i]!);
    assert.equal(got[2], 0, 'the Pod that is not Ready got nothing');
    assert.deepEqual(got.slice(0, 2).toSorted(), [0, 6], `one Pod holds the prefix: ${got}`);
    // Another prompt may go to the other Pod: both are in the pool.
    const seen = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const counts = replicas.map((r) => r.engine.counters.submitted);
      await call(`${gw.url}/llm/v1/chat/completions`, simulatorChat(`prompt ${i} ${'x'.repeat(600)}`, 'q'));
      replicas.forEach((r, j) => {
        if (r.engine.counters.submitted > counts[j]!) seen.add(j);
      });
    }
    assert.deepEqual([...seen].sort(), [0, 1]);
  });

  it('writes the pool’s status per parent Gateway: Accepted, ResolvedRefs (the endpoint picker is not called)', () => {
    const status = gw.gateway.statuses.get('InferencePool/default/llm');
    assert.ok(status, 'the pool has a status');
    assert.deepEqual(status.parents, [
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default', name: 'gw' },
    ]);
    const accepted = status.conditions.find((c) => c.type === 'Accepted');
    assert.equal(accepted?.status, 'True');
    assert.equal(accepted?.reason, 'Accepted');
    const refs = status.conditions.find((c) => c.type === 'ResolvedRefs');
    assert.equal(refs?.status, 'True');
    assert.match(refs?.message ?? '', /endpoint picker Service llm-epp is not called/);
    const routeRefs = gw.gateway.statuses
      .get('HTTPRoute/default/llm')
      ?.conditions.find((c) => c.type === 'ResolvedRefs');
    assert.equal(routeRefs?.status, 'True');
  });

  it('refuses a missing pool, a pool in another namespace without a ReferenceGrant, and an h2c pool', async () => {
    const reason = (name: string) =>
      gw.gateway.statuses.get(`HTTPRoute/default/${name}`)?.conditions.find((c) => c.type === 'ResolvedRefs')?.reason;
    assert.equal(reason('missing'), 'BackendNotFound');
    assert.equal(reason('other-ns'), 'RefNotPermitted');
    assert.equal(reason('h2c'), 'UnsupportedProtocol');
    assert.equal((await call(`${gw.url}/missing/x`)).status, 500);
    const h2c = gw.gateway.statuses.get('InferencePool/default/h2c')?.conditions.find((c) => c.type === 'Accepted');
    assert.equal(h2c?.status, 'False');
    assert.equal(h2c?.reason, 'NotSupportedByGateway');
    assert.equal(gw.gateway.statuses.get('InferencePool/team-b/llm'), undefined, 'no route of ours reaches it');
  });

  it('follows the Pods: one that becomes ready is used, one that goes away is not', async () => {
    await gw.write('pods.yaml', pod('llm-0', '127.0.0.2', false) + pod('llm-2', '127.0.0.4', true));
    const before = replicas.map((r) => r.engine.counters.submitted);
    for (let i = 0; i < 4; i++) {
      const res = await call(`${gw.url}/llm/v1/chat/completions`, simulatorChat(`p${i}`, 'q'));
      assert.equal(res.status, 200, res.text);
    }
    const got = replicas.map((r, i) => r.engine.counters.submitted - before[i]!);
    assert.deepEqual(got, [0, 0, 4]);
  });
});

describe('the Inference Extension’s own conformance manifests (InferencePoolAccepted)', () => {
  const dir = new URL('../fixtures/upstream/gateway-api-inference-extension/examples/', import.meta.url);
  let gw: TestGateway;
  let replica: Replica;

  before(async () => {
    const port = await unusedPort();
    replica = await startSimulator({ timeScale: 0.02 }, port, '127.0.0.5');
    // Their Namespaces, Gateways, pools and route as published; the Deployments' Pods written as Kubernetes would
    // report them (one ready Pod on a loopback address); the pool's port 3000 moved to the test's free port.
    const keep = new Set(['Namespace', 'Gateway', 'InferencePool', 'HTTPRoute']);
    const docs = ['base.yaml', 'inferencepool_accepted.yaml'].flatMap((f) =>
      parseAllDocuments(readFileSync(new URL(f, dir), 'utf8'))
        .map((d) => d.toJS() as { kind?: string; spec?: { targetPorts?: { number: number }[] } } | null)
        .filter((o) => o !== null && keep.has(o.kind ?? '')),
    );
    for (const o of docs) if (o?.spec?.targetPorts) o.spec.targetPorts = [{ number: port }];
    const text = docs
      .map((o) => stringify(o))
      .join('---\n')
      .replaceAll('{GATEWAY_CLASS_NAME}', 'modelgate');
    gw = await startGateway({
      'class.yaml': gatewayYaml().split('---')[0]!,
      'conformance.yaml': text,
      'pod.yaml': pod('primary-0', '127.0.0.5', true, '{app: primary-inference-model-server}').replace(
        'metadata: {',
        'metadata: {namespace: inference-conformance-app-backend, ',
      ),
    });
  });
  after(async () => {
    await gw?.stop();
    replica?.server.close();
  });

  it('accepts the route and the pool, and the route reaches the pool’s Pod', async () => {
    const route = gw.gateway.statuses.get(
      'HTTPRoute/inference-conformance-app-backend/httproute-for-inferencepool-accepted',
    );
    assert.equal(route?.conditions.find((c) => c.type === 'Accepted')?.status, 'True');
    assert.equal(route?.conditions.find((c) => c.type === 'ResolvedRefs')?.status, 'True');
    const pool = gw.gateway.statuses.get('InferencePool/inference-conformance-app-backend/primary-inference-pool');
    assert.equal(pool?.conditions.find((c) => c.type === 'Accepted')?.status, 'True');
    assert.deepEqual(pool?.parents, [
      {
        group: 'gateway.networking.k8s.io',
        kind: 'Gateway',
        namespace: 'inference-conformance-infra',
        name: 'conformance-primary',
      },
    ]);
    // The route forwards its path as it is; the simulator answers 404 for a path it does not serve — from the Pod.
    await eventually(async () =>
      (await call(`${gw.url}/accepted-pool-test`)).text.includes('not found: GET /accepted-pool-test'),
    );
  });
});
