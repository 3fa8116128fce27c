/**
 * The simulator's RBAC authorizer against the rules of the Kubernetes documentation ("Using RBAC Authorization",
 * kubernetes.io/docs/reference/access-authn-authz/rbac/): its examples as a table of cases, each with the verdict the
 * documentation gives. If the authorizer were more lenient than a real API server, the RBAC tests would prove nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forbiddenMessage, RbacAuthorizer, type RequestAttributes, serviceAccountUser } from '../helpers/rbac.ts';

const sa = serviceAccountUser('apps', 'robot');
const objects = [
  {
    kind: 'Role',
    metadata: { name: 'pod-reader', namespace: 'default' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'watch', 'list'] }],
  },
  {
    kind: 'RoleBinding',
    metadata: { name: 'read-pods', namespace: 'default' },
    roleRef: { kind: 'Role', name: 'pod-reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'robot', namespace: 'apps' }],
  },
  {
    kind: 'ClusterRole',
    metadata: { name: 'secret-reader' },
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }],
  },
  // A RoleBinding to a ClusterRole grants it in the binding's namespace only.
  {
    kind: 'RoleBinding',
    metadata: { name: 'read-secrets', namespace: 'development' },
    roleRef: { kind: 'ClusterRole', name: 'secret-reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'robot', namespace: 'apps' }],
  },
  {
    kind: 'ClusterRole',
    metadata: { name: 'status-and-logs' },
    rules: [
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['deployments/status'], verbs: ['patch'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['my-configmap'], verbs: ['update', 'get', 'list'] },
      { nonResourceURLs: ['/healthz', '/healthz/*'], verbs: ['get'] },
    ],
  },
  {
    kind: 'ClusterRoleBinding',
    metadata: { name: 'status' },
    roleRef: { kind: 'ClusterRole', name: 'status-and-logs' },
    subjects: [{ kind: 'Group', name: 'system:serviceaccounts:apps' }],
  },
];

const cases: [string, RequestAttributes, boolean][] = [
  ['a Role grants in its namespace', { verb: 'list', group: '', resource: 'pods', namespace: 'default' }, true],
  ['… not in another', { verb: 'list', group: '', resource: 'pods', namespace: 'kube-system' }, false],
  ['… not across all namespaces', { verb: 'list', group: '', resource: 'pods' }, false],
  [
    '… only the verbs it lists',
    { verb: 'delete', group: '', resource: 'pods', namespace: 'default', name: 'p' },
    false,
  ],
  [
    'a RoleBinding to a ClusterRole grants in the binding namespace',
    { verb: 'get', group: '', resource: 'secrets', namespace: 'development', name: 's' },
    true,
  ],
  ['… not elsewhere', { verb: 'get', group: '', resource: 'secrets', namespace: 'default', name: 's' }, false],
  [
    'a subresource rule grants that subresource (pods/log)',
    { verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace: 'default', name: 'p' },
    true,
  ],
  [
    'a subresource rule grants that subresource (through a group subject)',
    { verb: 'patch', group: 'apps', resource: 'deployments', subresource: 'status', namespace: 'x', name: 'd' },
    true,
  ],
  [
    '… not the resource itself',
    { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'x', name: 'd' },
    false,
  ],
  [
    '… not in another API group',
    { verb: 'patch', group: 'extensions', resource: 'deployments', subresource: 'status', namespace: 'x', name: 'd' },
    false,
  ],
  [
    'resourceNames: the named object',
    { verb: 'update', group: '', resource: 'configmaps', namespace: 'x', name: 'my-configmap' },
    true,
  ],
  [
    'resourceNames: another object',
    { verb: 'update', group: '', resource: 'configmaps', namespace: 'x', name: 'other' },
    false,
  ],
  ['resourceNames: an unnamed list', { verb: 'list', group: '', resource: 'configmaps', namespace: 'x' }, false],
  [
    'resourceNames: a list narrowed to the name',
    { verb: 'list', group: '', resource: 'configmaps', namespace: 'x', name: 'my-configmap' },
    true,
  ],
  ['a non-resource URL', { verb: 'get', path: '/healthz/ready' }, true],
  [
    'a resource rule does not grant its subresources',
    { verb: 'get', group: '', resource: 'pods', subresource: 'exec', namespace: 'default', name: 'p' },
    false,
  ],
  ['a non-resource URL not listed', { verb: 'get', path: '/metrics' }, false],
  ['discovery is open to every authenticated user', { verb: 'get', path: '/apis' }, true],
];

describe('RBAC authorizer of the simulator', () => {
  const authorizer = new RbacAuthorizer(objects);
  for (const [name, request, allowed] of cases)
    it(`${name} → ${allowed ? 'allowed' : 'forbidden'}`, () => {
      assert.equal(authorizer.authorize(sa, request).allowed, allowed);
    });

  it('a subject that is not bound gets nothing; system:masters gets everything', () => {
    const other = serviceAccountUser('apps', 'someone-else');
    assert.equal(
      authorizer.authorize(other, { verb: 'list', group: '', resource: 'pods', namespace: 'default' }).allowed,
      false,
    );
    assert.equal(
      authorizer.authorize({ name: 'admin', groups: ['system:masters'] }, { verb: 'delete', group: 'x', resource: 'y' })
        .allowed,
      true,
    );
  });

  it('says no in the words of a real API server', () => {
    assert.equal(
      forbiddenMessage(sa, { verb: 'list', group: '', resource: 'secrets', namespace: 'default' }),
      'secrets is forbidden: User "system:serviceaccount:apps:robot" cannot list resource "secrets" in API group "" in the namespace "default"',
    );
    assert.equal(
      forbiddenMessage(sa, {
        verb: 'patch',
        group: 'gateway.networking.k8s.io',
        resource: 'gatewayclasses',
        subresource: 'status',
        name: 'modelgate',
      }),
      'gatewayclasses.gateway.networking.k8s.io "modelgate" is forbidden: User "system:serviceaccount:apps:robot" cannot patch resource "gatewayclasses/status" in API group "gateway.networking.k8s.io" at the cluster scope',
    );
  });
});
