/**
 * The deploy manifests as kustomize renders them (`deploy/`, `deploy/overlays/namespaced/`, `deploy/examples/`), by
 * the test renderer (test/helpers/kustomize.ts, so this runs without kubectl) and, where kubectl is installed, by
 * `kubectl kustomize` too, which must agree object for object. Every built-in
 * object is checked field by field against the Kubernetes API types (the models of @kubernetes/client-node, generated
 * from the Kubernetes OpenAPI: unknown fields and wrong types fail), every modelgate resource against the CRD's
 * schema and modelgate's own; and the properties the issue asks for (2 replicas, probes on the admin port, non-root,
 * read-only root filesystem, dropped capabilities, resource requests, least-privilege RBAC) hold.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { validateResource } from '../../src/schema/validate.ts';
import { KubeApiServer } from '../helpers/kube-apiserver.ts';
import { renderKustomization } from '../helpers/kustomize.ts';

type Json = Record<string, unknown>;
type Attribute = { name: string; baseName: string; type: string };

const root = new URL('../..', import.meta.url).pathname;
const hasKubectl = existsSync('/usr/bin/kubectl') || existsSync('/usr/local/bin/kubectl');

function render(dir: string): Json[] {
  return renderKustomization(`${root}${dir}`);
}

function renderWithKubectl(dir: string): Json[] {
  const text = execFileSync('kubectl', ['kustomize', dir], { cwd: root, encoding: 'utf8' });
  return parseAllDocuments(text).map((d) => d.toJSON() as Json);
}

const KUSTOMIZATIONS = ['deploy', 'deploy/overlays/namespaced', 'deploy/examples'];

describe('the test renderer of kustomizations', () => {
  it('renders what kubectl kustomize renders, object for object', (t) => {
    if (!hasKubectl) return t.skip('kubectl is not installed: the renderer is not compared (not a Debian package)');
    const key = (o: Json) => `${o.kind}/${(o.metadata as Json).namespace ?? ''}/${(o.metadata as Json).name}`;
    for (const dir of KUSTOMIZATIONS) {
      const byKey = (objects: Json[]) => new Map(objects.map((o) => [key(o), o]));
      const ours = byKey(render(dir));
      const reference = byKey(renderWithKubectl(dir));
      assert.deepEqual([...ours.keys()].sort(), [...reference.keys()].sort(), dir);
      for (const [k, o] of reference) assert.deepEqual(ours.get(k), o, `${dir}: ${k}`);
    }
  });
});

/** The client's model class name of an object, e.g. apps/v1 Deployment → V1Deployment. */
function modelName(o: Json): string {
  const version = String(o.apiVersion).split('/').pop()!;
  return `${version[0]!.toUpperCase()}${version.slice(1)}${String(o.kind)}`;
}

function attributes(type: string): Attribute[] | undefined {
  const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] }>)[type];
  return model?.getAttributeTypeMap?.();
}

/** Every way `value` breaks the API type `type` (unknown fields, wrong types), with its path. */
function check(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) out.push(`${path}: expected an array`);
    else for (const [i, v] of value.entries()) check(v, array[1]!, `${path}[${i}]`, out);
    return;
  }
  if (map) {
    if (typeof value !== 'object' || Array.isArray(value)) out.push(`${path}: expected a map`);
    else for (const [k, v] of Object.entries(value)) check(v, map[1]!, `${path}.${k}`, out);
    return;
  }
  switch (type) {
    case 'string':
    case 'Date':
      if (typeof value !== 'string') out.push(`${path}: expected a string`);
      return;
    case 'number':
      if (typeof value !== 'number') out.push(`${path}: expected a number`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') out.push(`${path}: expected a boolean`);
      return;
    case 'IntOrString':
      if (typeof value !== 'string' && typeof value !== 'number') out.push(`${path}: expected an int or a string`);
      return;
    case 'any':
    case 'object':
      return;
  }
  const attrs = attributes(type);
  if (!attrs) {
    out.push(`${path}: unknown API type ${type}`);
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    out.push(`${path}: expected an object (${type})`);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    const attr = attrs.find((a) => a.baseName === k);
    if (!attr) out.push(`${path}.${k}: unknown field of ${type}`);
    else check(v, attr.type, `${path}.${k}`, out);
  }
}

describe('deploy manifests', () => {
  const base = render('deploy');
  const examples = render('deploy/examples');
  const namespaced = render('deploy/overlays/namespaced');
  const of = (kind: string, name?: string) =>
    base.find((o) => o.kind === kind && (!name || (o.metadata as Json).name === name));

  it('renders, and every built-in object matches its Kubernetes API type', () => {
    const kinds = base.map((o) => o.kind).sort();
    for (const k of [
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Namespace',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ])
      assert.ok(kinds.includes(k), `renders a ${k}`);
    const problems: string[] = [];
    for (const o of [...base, ...namespaced, ...examples].filter(
      (x) => !String(x.apiVersion).startsWith('modelgate.dev/'),
    ))
      check(o, modelName(o), `${o.kind}/${(o.metadata as Json).name}`, problems);
    assert.deepEqual(problems, []);
  });

  it('the namespaced overlay: the gateway watches its namespaces, Secrets and ConfigMaps are granted there only', () => {
    const deployment = namespaced.find((o) => o.kind === 'Deployment') as {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    assert.ok(deployment.spec.template.spec.containers[0]!.args.includes('--namespaces=ml'));
    const clusterRules = (
      namespaced.find((o) => o.kind === 'ClusterRole' && (o.metadata as Json).name === 'modelgate') as {
        rules: { resources: string[] }[];
      }
    ).rules;
    assert.ok(!clusterRules.some((r) => r.resources.includes('secrets') || r.resources.includes('configmaps')));
    const binding = namespaced.find(
      (o) => o.kind === 'RoleBinding' && (o.metadata as Json).name === 'modelgate-namespace-access',
    );
    assert.equal((binding?.metadata as Json | undefined)?.namespace, 'ml');
  });

  it('catches a manifest mistake (the check is not blind)', () => {
    const broken = structuredClone(of('Deployment')!) as { spec: { template: { spec: { containers: Json[] } } } };
    broken.spec.template.spec.containers[0]!.readinesProbe = {};
    (broken.spec as Json).replicas = 'two';
    const problems: string[] = [];
    check(broken, 'V1Deployment', 'Deployment', problems);
    assert.equal(problems.length, 2, problems.join('\n'));
  });

  it('runs two hardened replicas with probes on the admin port and resource requests', () => {
    const d = of('Deployment') as { spec: { replicas: number; template: { spec: Json & { containers: Json[] } } } };
    assert.equal(d.spec.replicas, 2);
    const pod = d.spec.template.spec;
    assert.equal((pod.securityContext as Json).runAsNonRoot, true);
    const c = pod.containers[0] as Json & {
      securityContext: Json;
      resources: Json;
      readinessProbe: Json;
      livenessProbe: Json;
    };
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual((c.securityContext.capabilities as Json).drop, ['ALL']);
    assert.ok((c.resources.requests as Json).cpu && (c.resources.requests as Json).memory);
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'admin' });
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'admin' });
    assert.ok((c.args as string[]).includes('--kube'));
    assert.equal(String(c.image), 'ghcr.io/modelgate/modelgate:0.1.0');
  });

  it('grants least privilege: reads what it watches, writes only statuses, events, leases and its ConfigMaps', () => {
    const rules = (of('ClusterRole') as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] })
      .rules;
    const writes = ['create', 'update', 'patch', 'delete'];
    for (const r of rules) {
      assert.ok(!r.verbs.includes('*') && !r.resources.includes('*') && !r.apiGroups.includes('*'), 'no wildcards');
      if (r.verbs.some((v) => writes.includes(v)))
        for (const res of r.resources)
          assert.ok(
            [
              'modelapis/status',
              'modelgateways/status',
              'inferenceservices/status',
              'models/status',
              'pipelines/status',
              'experiments/status',
              'gatewayclasses/status',
              'gateways/status',
              'httproutes/status',
              'inferencepools/status',
              'events',
              'configmaps',
            ].includes(res),
            `writes ${res}`,
          );
    }
    const secrets = rules.find((r) => r.resources.includes('secrets'))!;
    assert.deepEqual(secrets.verbs.sort(), ['list', 'watch']);
    const lease = (of('Role') as { rules: { resources: string[]; verbs: string[] }[] }).rules;
    assert.deepEqual(lease, [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]);
  });

  it('limits the network: listeners in; DNS, the API server, Redis and model namespaces out', () => {
    const np = of('NetworkPolicy') as {
      spec: { policyTypes: string[]; ingress: Json[]; egress: { ports?: { port: unknown }[] }[] };
    };
    assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
    const egressPorts = np.spec.egress.flatMap((e) => (e.ports ?? []).map((p) => p.port));
    for (const port of [53, 443, 6379]) assert.ok(egressPorts.includes(port), `egress to ${port}`);
  });

  it('has a cert-manager example whose ModelGateway modelgate accepts', () => {
    const docs = parseAllDocuments(readFileSync(`${root}deploy/examples/tls/certificate.yaml`, 'utf8')).map(
      (d) => d.toJSON() as Json,
    );
    assert.equal(docs[0]!.kind, 'Certificate');
    assert.deepEqual(validateResource(docs[1]!), []);
  });

  it('ships example resources that the CRDs and modelgate accept', () => {
    const sim = new KubeApiServer(
      ['deploy/crds/modelgate.dev_modelapis.yaml', 'deploy/crds/modelgate.dev_modelgateways.yaml'].map(
        (f) => `${root}${f}`,
      ),
    );
    const custom = examples.filter((o) => String(o.apiVersion).startsWith('modelgate.dev/'));
    assert.ok(custom.length >= 3);
    for (const o of custom) {
      const resource = sim.resources.find((r) => r.kind === o.kind)!;
      assert.ok(resource.validate!(o), `${o.kind}: ${JSON.stringify(resource.validate!.errors)}`);
      assert.deepEqual(validateResource(o), [], `${o.kind} is valid for modelgate`);
    }
  });
});
