/**
 * Kubernetes RBAC authorization, as the API server's RBAC authorizer decides it (k8s.io/kubernetes
 * plugin/pkg/auth/authorizer/rbac): a request is allowed when a rule of a role bound to the user, one of its groups or
 * its ServiceAccount allows it. ClusterRoleBindings grant their ClusterRole everywhere (cluster-scoped resources
 * included); RoleBindings grant their Role or ClusterRole in their own namespace only. A rule matches on API group,
 * resource (`resource/subresource`, `*`, `*\/subresource`), verb (or `*`) and, when it lists resourceNames, the name;
 * non-resource URLs (`/version`, `/apis`) are matched by `nonResourceURLs` (with a trailing `*` as a prefix).
 * Two bootstrap policies are built in: `system:masters` may do anything, and every authenticated user may read the
 * discovery documents (the `system:discovery` ClusterRole).
 */

type Json = Record<string, unknown>;

export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
}

/** A resource request (`/api…`, `/apis…`) or a non-resource one. */
export type RequestAttributes =
  | {
      readonly verb: string;
      readonly group: string;
      readonly resource: string;
      readonly subresource?: string;
      readonly namespace?: string;
      readonly name?: string;
    }
  | { readonly verb: string; readonly path: string };

export interface PolicyRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
}

export interface Decision {
  readonly allowed: boolean;
  /** The rule that allowed it (`ClusterRole/name#index`), for least-privilege accounting. */
  readonly by?: string;
}

/** The user a ServiceAccount token authenticates as. */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    name: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

const DISCOVERY: PolicyRule = {
  verbs: ['get'],
  nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/readyz', '/version', '/version/'],
};

/** Roles and bindings (as rendered from deploy/), decided like the RBAC authorizer. */
export class RbacAuthorizer {
  readonly #roles = new Map<string, PolicyRule[]>();
  readonly #bindings: Json[] = [];

  constructor(objects: readonly Json[]) {
    for (const o of objects) {
      const meta = (o.metadata ?? {}) as Json;
      if (o.kind === 'ClusterRole') this.#roles.set(`ClusterRole/${meta.name}`, (o.rules ?? []) as PolicyRule[]);
      if (o.kind === 'Role') this.#roles.set(`Role/${meta.namespace}/${meta.name}`, (o.rules ?? []) as PolicyRule[]);
      if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') this.#bindings.push(o);
    }
  }

  authorize(user: UserInfo, request: RequestAttributes): Decision {
    if (user.groups.includes('system:masters')) return { allowed: true, by: 'group system:masters' };
    if ('path' in request) {
      if (user.groups.includes('system:authenticated') && nonResourceMatches(DISCOVERY, request))
        return { allowed: true, by: 'ClusterRole/system:discovery' };
    }
    for (const binding of this.#bindings) {
      if (!((binding.subjects ?? []) as Json[]).some((s) => subjectMatches(s, user))) continue;
      const meta = binding.metadata as Json;
      // A RoleBinding grants only inside its own namespace, and never cluster-scoped or non-resource access.
      if (binding.kind === 'RoleBinding' && ('path' in request || request.namespace !== meta.namespace)) continue;
      const ref = binding.roleRef as Json;
      const key = ref.kind === 'ClusterRole' ? `ClusterRole/${ref.name}` : `Role/${meta.namespace}/${ref.name}`;
      const rules = this.#roles.get(key) ?? [];
      const index = rules.findIndex((rule) =>
        'path' in request ? nonResourceMatches(rule, request) : resourceMatches(rule, request),
      );
      if (index >= 0) return { allowed: true, by: `${key}#${index}` };
    }
    return { allowed: false };
  }

  /** Every rule, named as in `Decision.by`. */
  rules(): { key: string; rule: PolicyRule }[] {
    return [...this.#roles].flatMap(([key, rules]) => rules.map((rule, i) => ({ key: `${key}#${i}`, rule })));
  }
}

function subjectMatches(subject: Json, user: UserInfo): boolean {
  switch (subject.kind) {
    case 'ServiceAccount':
      return user.name === `system:serviceaccount:${subject.namespace}:${subject.name}`;
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(String(subject.name));
    default:
      return false;
  }
}

function resourceMatches(rule: PolicyRule, r: Extract<RequestAttributes, { group: string }>): boolean {
  if (!rule.verbs.includes('*') && !rule.verbs.includes(r.verb)) return false;
  const groups = rule.apiGroups ?? [];
  if (!groups.includes('*') && !groups.includes(r.group)) return false;
  const combined = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  const resources = rule.resources ?? [];
  const resourceOk =
    resources.includes('*') ||
    resources.includes(combined) ||
    (r.subresource !== undefined && resources.includes(`*/${r.subresource}`)) ||
    (r.subresource === undefined ? false : resources.includes(`${r.resource}/*`));
  if (!resourceOk) return false;
  // resourceNames restrict to named requests: a list, a watch or a create (no name yet) does not match them.
  if (rule.resourceNames && rule.resourceNames.length > 0)
    return r.name !== undefined && rule.resourceNames.includes(r.name);
  return true;
}

function nonResourceMatches(rule: PolicyRule, r: { verb: string; path: string }): boolean {
  if (!rule.verbs.includes('*') && !rule.verbs.includes(r.verb)) return false;
  return (rule.nonResourceURLs ?? []).some((u) =>
    u === '*' ? true : u.endsWith('*') ? r.path.startsWith(u.slice(0, -1)) : u === r.path,
  );
}

/** The message of a real API server's 403 (k8s.io/apiserver/pkg/endpoints/handlers/responsewriters). */
export function forbiddenMessage(user: UserInfo, r: RequestAttributes): string {
  if ('path' in r) return `forbidden: User "${user.name}" cannot ${r.verb} path "${r.path}"`;
  const qualified = r.group ? `${r.resource}.${r.group}` : r.resource;
  const subject = r.name ? `${qualified} "${r.name}"` : qualified;
  const what = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  const scope = r.namespace ? `in the namespace "${r.namespace}"` : 'at the cluster scope';
  return `${subject} is forbidden: User "${user.name}" cannot ${r.verb} resource "${what}" in API group "${r.group}" ${scope}`;
}
