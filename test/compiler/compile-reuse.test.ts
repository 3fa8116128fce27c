/**
 * The compiler reuses a ModelAPI's previous compilation only while nothing it depends on changed: the resource, the
 * Service and EndpointSlices behind its backends, the defaults and URLs. A changed EndpointSlice (the ModelAPI
 * untouched) must give new endpoints. What is reused belongs to a reuse object (the runtime owns one): a compile
 * without one starts from nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileSnapshot } from '../../src/compiler/compile.ts';
import { CompileReuse } from '../../src/compiler/reuse.ts';
import { EMPTY_RESOURCES, type ResourceSet } from '../../src/resources/types.ts';
import type { EndpointSlice, Service } from '../../src/schema/core.ts';
import type { ModelAPI } from '../../src/schema/model-api.ts';

const api = {
  apiVersion: 'modelgate.dev/v1alpha1',
  kind: 'ModelAPI',
  metadata: { name: 'iris', namespace: 'ml' },
  spec: { protocol: 'openapi', versions: [{ name: 'v1', backend: { service: { name: 'iris', port: 'http' } } }] },
} as ModelAPI;
const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'iris', namespace: 'ml' },
  spec: { ports: [{ name: 'http', port: 80 }] },
} as Service;
const slice = (address: string) =>
  ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'iris-1', namespace: 'ml', labels: { 'kubernetes.io/service-name': 'iris' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080 }],
    endpoints: [{ addresses: [address] }],
  }) as EndpointSlice;
const resources = (s: EndpointSlice): ResourceSet => ({
  ...EMPTY_RESOURCES,
  modelApis: [api],
  services: [service],
  endpointSlices: [s],
});

describe('reusing compiled ModelAPIs across reloads', () => {
  it('reuses the compilation when nothing changed and recompiles when an EndpointSlice did', () => {
    const reuse = new CompileReuse();
    const compile = (r: ResourceSet) => compileSnapshot(r, { reuse });
    const first = slice('10.0.0.1');
    const a = compile(resources(first)).snapshot;
    const b = compile(resources(first)).snapshot;
    assert.equal(a.routes[0], b.routes[0], 'the same rule objects: nothing was recompiled');
    // The status too (with the docs pass's verdict in it): the status store recognises it as unchanged by identity.
    assert.equal(compile(resources(first)).statuses[0], compile(resources(first)).statuses[0]);
    const c = compile(resources(slice('10.0.0.2'))).snapshot;
    assert.deepEqual(
      c.clusters['ml/iris/v1']!.endpoints.map((e) => e.origin),
      ['http://10.0.0.2:8080'],
    );
    const d = compile({ ...resources(first), services: [] }).snapshot;
    assert.equal(
      d.routes.length > 0 ? d.clusters['ml/iris/v1']?.endpoints.length : 0,
      0,
      'a removed Service is noticed',
    );
  });
});

describe('reusing rendered API documents across reloads', () => {
  const documented = {
    ...api,
    spec: { ...api.spec, docs: { openAPI: { configMapRef: { name: 'iris-openapi' } } } },
  } as ModelAPI;
  const configMap = (title: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'iris-openapi', namespace: 'ml' },
    data: {
      'openapi.json': JSON.stringify({
        openapi: '3.1.0',
        info: { title, version: '1' },
        paths: { '/predict': { post: { responses: { '200': { description: 'ok' } } } } },
      }),
    },
  });
  it('reuses nothing without a reuse object, nor across two of them', () => {
    const first = slice('10.0.0.1');
    assert.notEqual(
      compileSnapshot(resources(first)).snapshot.routes[0],
      compileSnapshot(resources(first)).snapshot.routes[0],
    );
    const [one, two] = [new CompileReuse(), new CompileReuse()];
    assert.notEqual(
      compileSnapshot(resources(first), { reuse: one }).snapshot.routes[0],
      compileSnapshot(resources(first), { reuse: two }).snapshot.routes[0],
    );
    assert.deepEqual(
      compileSnapshot(resources(first)).snapshot,
      compileSnapshot(resources(first), { reuse: one }).snapshot,
    );
  });

  const endpoints = slice('10.0.0.1');
  const withDocs = (cm: ReturnType<typeof configMap>, more: ModelAPI[] = []): ResourceSet => ({
    ...resources(endpoints),
    modelApis: [documented, ...more],
    configMaps: [cm as ResourceSet['configMaps'][number]],
  });

  it('keeps an unchanged API document, re-renders when its ConfigMap or its tag changes', () => {
    const reuse = new CompileReuse();
    const compile = (r: ResourceSet) => compileSnapshot(r, { reuse });
    const cm = configMap('Iris');
    const a = compile(withDocs(cm)).snapshot.docs.apis[0]!;
    const b = compile(withDocs(cm)).snapshot.docs.apis[0]!;
    assert.equal(a, b, 'the same published API: nothing was rendered again');
    const c = compile(withDocs(configMap('Iris 2'))).snapshot.docs.apis[0]!;
    assert.notEqual(c, a);
    assert.equal(c.versions[0]!.source, a.versions[0]!.source);
    assert.match(JSON.stringify(c.parts[0]!.document), /"paths"/);
    // Another API titled the same: both tags are qualified by namespace now, so the first is rendered again.
    const twin = {
      ...api,
      metadata: { name: 'iris', namespace: 'other' },
      spec: {
        protocol: 'openapi',
        pathPrefix: '/other/iris',
        versions: [{ name: 'v1', backend: { url: 'http://10.0.0.9:80' } }],
      },
    } as ModelAPI;
    const d = compile(withDocs(cm, [twin])).snapshot.docs.apis.find((x) => x.namespace === 'ml')!;
    assert.notEqual(d, a);
    assert.equal(d.tag, 'ml/iris');
  });
});
