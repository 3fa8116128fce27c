/**
 * The docs sign-on settings as compiled: defaults, the client secret from its Secret (never in /config), a missing
 * Secret reported on the ModelGateway with the docs closed (not opened), and `auth` without providers or oidc refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileSnapshot } from '../../src/compiler/compile.ts';
import { EMPTY_RESOURCES, type ResourceSet } from '../../src/resources/types.ts';
import { configView } from '../../src/runtime/config-view.ts';
import type { Secret } from '../../src/schema/core.ts';
import type { ModelGateway } from '../../src/schema/model-gateway.ts';
import { validateResource } from '../../src/schema/validate.ts';

const gateway = {
  apiVersion: 'modelgate.dev/v1alpha1',
  kind: 'ModelGateway',
  metadata: { name: 'gw', namespace: 'ops' },
  spec: {
    docs: {
      auth: {
        allow: { groups: ['ml-team'] },
        oidc: { issuer: 'https://login.example.com/realms/ml/', clientID: 'portal', clientSecret: { name: 'sso' } },
      },
    },
  },
} as ModelGateway;
const secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'sso', namespace: 'ops' },
  stringData: { 'client-secret': 's3cret-value' },
} as Secret;
const resources = (secrets: Secret[]): ResourceSet => ({ ...EMPTY_RESOURCES, modelGateways: [gateway], secrets });

describe('docs sign-on settings', () => {
  it('reads the client secret from the Secret, with the defaults, and keeps it out of /config', () => {
    const { snapshot } = compileSnapshot(resources([secret]));
    assert.deepEqual(snapshot.docs.sso, {
      issuer: 'https://login.example.com/realms/ml',
      clientId: 'portal',
      clientSecret: 's3cret-value',
      secretSource: 'Secret/ops/sso',
      scopes: ['openid', 'profile', 'email'],
      groupsClaim: 'groups',
      requiredClaims: {},
      allowGroups: ['ml-team'],
      sessionMaxAgeMs: 12 * 3600_000,
    });
    assert.equal(snapshot.docs.auth, undefined, 'no providers: sign-on only');
    assert.doesNotMatch(JSON.stringify(configView(snapshot, {}, undefined)), /s3cret-value/);
  });

  it('reports a missing Secret on the ModelGateway and keeps the docs closed', () => {
    const { snapshot, statuses } = compileSnapshot(resources([]));
    assert.equal(snapshot.docs.sso, undefined);
    assert.equal(snapshot.docs.ssoUnavailable, true);
    const refs = statuses
      .find((s) => s.ref === 'ModelGateway/ops/gw')
      ?.conditions.find((c) => c.type === 'ResolvedRefs');
    assert.equal(refs?.status, 'False');
    assert.match(refs?.message ?? '', /docs\.auth: docs\.auth\.oidc: Secret\/ops\/sso not found/);
  });

  it('refuses docs.auth with neither providers nor oidc, at its field', () => {
    const resource: { apiVersion: string; kind: string } & Record<string, unknown> = {
      apiVersion: 'modelgate.dev/v1alpha1',
      kind: 'ModelGateway',
      metadata: { name: 'gw' },
      spec: { docs: { auth: { allow: { groups: ['x'] } } } },
    };
    assert.deepEqual(validateResource(resource), [
      { pointer: '/spec/docs/auth', message: 'needs `providers`, `oidc` or both' },
    ]);
  });
});
