/** The ModelGateway's tracing settings as compiled: defaults, export headers from a Secret, a missing Secret reported. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileSnapshot } from '../../src/compiler/compile.ts';
import { EMPTY_RESOURCES, type ResourceSet } from '../../src/resources/types.ts';
import type { Secret } from '../../src/schema/core.ts';
import type { ModelGateway } from '../../src/schema/model-gateway.ts';

const gateway = {
  apiVersion: 'modelgate.dev/v1alpha1',
  kind: 'ModelGateway',
  metadata: { name: 'gw', namespace: 'ops' },
  spec: { tracing: { otlpEndpoint: 'http://collector:4318/v1/traces', headersSecret: { name: 'otel' } } },
} as ModelGateway;
const secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'otel', namespace: 'ops' },
  stringData: { Authorization: 'Bearer t0ken' },
} as Secret;
const resources = (secrets: Secret[]): ResourceSet => ({ ...EMPTY_RESOURCES, modelGateways: [gateway], secrets });

describe('tracing settings', () => {
  it('takes the export headers from the Secret in the ModelGateway’s namespace, with the defaults', () => {
    const { snapshot, statuses } = compileSnapshot(resources([secret]));
    assert.deepEqual(snapshot.gateway.tracing, {
      otlpEndpoint: 'http://collector:4318/v1/traces',
      samplingRatio: 1,
      serviceName: 'modelgate',
      protocol: 'http/protobuf',
      headers: { authorization: 'Bearer t0ken' },
    });
    const gw = statuses.find((s) => s.ref === 'ModelGateway/ops/gw');
    assert.equal(
      gw?.conditions.find((c) => c.type === 'ResolvedRefs'),
      undefined,
    );
  });

  it('reports a missing Secret on the ModelGateway and exports without its headers', () => {
    const { snapshot, statuses } = compileSnapshot(resources([]));
    assert.deepEqual(snapshot.gateway.tracing?.headers, {});
    const refs = statuses
      .find((s) => s.ref === 'ModelGateway/ops/gw')
      ?.conditions.find((c) => c.type === 'ResolvedRefs');
    assert.equal(refs?.status, 'False');
    assert.match(refs?.message ?? '', /tracing: Secret\/ops\/otel not found/);
  });
});
