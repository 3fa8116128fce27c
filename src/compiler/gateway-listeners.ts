/**
 * Gateway listeners as the Gateway API defines them: which routes a listener admits (route kinds, the namespace
 * policy with its label selector), the hostnames a route serves on it, and the Gateway's status per listener.
 */
import { condition, type ResourceStatus } from '../resources/status.ts';
import { GATEWAY_GROUP, type Gateway, type Listener } from '../schema/gateway-api.ts';

/**
 * A Gateway's status: its conditions, and per listener the route kinds it supports, how many routes attached and its
 * own conditions. Only HTTP listeners are served by Gateway listeners here (TLS is the gateway's HTTPS listener).
 */
export function gatewayStatus(g: Gateway, attached: ReadonlyMap<string, ReadonlySet<string>>): ResourceStatus {
  const listeners = g.spec.listeners.map((l) => {
    const supported = l.protocol === 'HTTP';
    const kinds = l.allowedRoutes?.kinds;
    const invalidKinds =
      kinds?.some((k) => (k.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || k.kind !== 'HTTPRoute') ?? false;
    return {
      name: l.name,
      supportedKinds: supported ? [{ group: GATEWAY_GROUP, kind: 'HTTPRoute' }] : [],
      attachedRoutes: attached.get(`${ns(g)}/${g.metadata.name}/${l.name}`)?.size ?? 0,
      conditions: supported
        ? [
            condition('Accepted', 'True', 'Accepted', 'serving HTTPRoutes'),
            condition('Programmed', 'True', 'Programmed', 'programmed'),
            invalidKinds
              ? condition('ResolvedRefs', 'False', 'InvalidRouteKinds', 'only HTTPRoute is supported')
              : condition('ResolvedRefs', 'True', 'ResolvedRefs', 'all references resolved'),
          ]
        : [
            condition(
              'Accepted',
              'False',
              'UnsupportedProtocol',
              `protocol ${l.protocol} is not served by Gateway listeners`,
            ),
            condition('Programmed', 'False', 'Invalid', 'not programmed'),
          ],
    };
  });
  const served = listeners.filter((l) => l.supportedKinds.length > 0).length;
  return {
    ref: `Gateway/${ns(g)}/${g.metadata.name}`,
    ...(g.metadata.generation !== undefined ? { observedGeneration: g.metadata.generation } : {}),
    conditions: [
      condition('Accepted', 'True', 'Accepted', 'handled by modelgate'),
      served > 0
        ? condition('Programmed', 'True', 'Programmed', `serving ${served} listener(s)`)
        : condition('Programmed', 'False', 'Invalid', 'no listener can be served'),
    ],
    fields: { listeners },
  };
}

export function allowsRoute(
  listener: Listener,
  gatewayNs: string,
  routeNs: string,
  labels: ReadonlyMap<string, Record<string, string>>,
): boolean {
  const kinds = listener.allowedRoutes?.kinds;
  if (kinds && !kinds.some((k) => (k.group ?? GATEWAY_GROUP) === GATEWAY_GROUP && k.kind === 'HTTPRoute')) return false;
  const from = listener.allowedRoutes?.namespaces?.from ?? 'Same';
  if (from === 'All') return true;
  if (from === 'Same') return routeNs === gatewayNs;
  if (from !== 'Selector') return false;
  const selector = listener.allowedRoutes?.namespaces?.selector;
  const have = labels.get(routeNs) ?? {};
  const matchLabels = Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => have[k] === v);
  const matchExpressions = (selector?.matchExpressions ?? []).every((e) => {
    const value = have[e.key];
    switch (e.operator) {
      case 'In':
        return value !== undefined && (e.values ?? []).includes(value);
      case 'NotIn':
        return value === undefined || !(e.values ?? []).includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      default:
        return false;
    }
  });
  return matchLabels && matchExpressions;
}

/**
 * Hostnames a route serves on a listener: the intersection of the listener's hostname (none = any) and the route's
 * hostnames (none = any); undefined when they do not intersect (the route does not attach to this listener).
 */
export function intersectHostnames(
  listener: string | undefined,
  route: readonly string[] | undefined,
): string[] | undefined {
  const l = listener?.toLowerCase();
  const routeHosts = (route ?? []).map((h) => h.toLowerCase());
  if (routeHosts.length === 0) return l ? [l] : [];
  if (!l) return routeHosts;
  const out = new Set<string>();
  for (const h of routeHosts) {
    if (h === l) out.add(h);
    else if (l.startsWith('*.') && !h.startsWith('*.') && h.endsWith(l.slice(1))) out.add(h);
    else if (h.startsWith('*.') && !l.startsWith('*.') && l.endsWith(h.slice(1))) out.add(l);
    else if (h.startsWith('*.') && l.startsWith('*.')) {
      if (h.endsWith(l.slice(1))) out.add(h);
      else if (l.endsWith(h.slice(1))) out.add(l);
    }
  }
  return out.size > 0 ? [...out] : undefined;
}

function ns(obj: { metadata: { namespace?: string | undefined } }): string {
  return obj.metadata.namespace ?? 'default';
}
