/**
 * Which ModelGateway is this install's, and which ModelAPIs it serves — so two modelgate installs in one cluster do not
 * both serve everything. An install started with `--gateway NAMESPACE/NAME` is that ModelGateway: it ignores the other
 * ModelGateways (another install's) and serves the ModelAPIs whose `spec.gatewayRef` names it, plus those without a
 * reference when it is the default gateway: the ModelGateway annotated `modelgate.dev/default-gateway: "true"` (the
 * oldest such), or the only ModelGateway there is. Without `--gateway` (one install, the usual case) the oldest
 * ModelGateway is in effect, the others are told they are superseded, and unreferenced ModelAPIs are served unless
 * another ModelGateway is annotated default. A ModelAPI whose reference names no ModelGateway at all is reported by
 * the default gateway's install only (one writer). Pure.
 */
import { condition, type ResourceStatus } from '../resources/status.ts';
import type { ResourceSet } from '../resources/types.ts';
import type { ModelAPI } from '../schema/model-api.ts';
import type { ModelGateway } from '../schema/model-gateway.ts';

export const DEFAULT_GATEWAY_ANNOTATION = 'modelgate.dev/default-gateway';

export interface GatewaySelection {
  /** The ModelGateway in effect here (none: defaults). */
  readonly gateway: ModelGateway | undefined;
  /** `namespace/name` of that ModelGateway, or `--gateway`'s value when it does not exist (yet). */
  readonly name: string | undefined;
  /** The ModelAPIs this install serves. */
  readonly modelApis: readonly ModelAPI[];
  /** Statuses this install owns beyond the served ModelAPIs (superseded gateways, references to nothing). */
  readonly statuses: readonly ResourceStatus[];
}

export function selectGateway(resources: ResourceSet, gatewayName: string | undefined): GatewaySelection {
  const gateways = [...resources.modelGateways].sort(byAge);
  const statuses: ResourceStatus[] = [];
  let own: ModelGateway | undefined;
  if (gatewayName !== undefined) own = gateways.find((g) => key(g) === gatewayName);
  else {
    own = gateways[0];
    for (const ignored of gateways.slice(1))
      statuses.push(
        statusOf('ModelGateway', ignored, [
          condition(
            'Accepted',
            'False',
            'Superseded',
            `ModelGateway ${key(own!)} is older and in effect; only one is used (several installs: start each with --gateway NAMESPACE/NAME)`,
          ),
        ]),
      );
  }
  const annotated = gateways.filter((g) => g.metadata.annotations?.[DEFAULT_GATEWAY_ANNOTATION] === 'true');
  const isDefault =
    annotated.length > 0
      ? own !== undefined && annotated[0] === own
      : gatewayName === undefined || (gateways.length === 1 && own !== undefined);
  const ownName = own ? key(own) : gatewayName;
  const existing = new Set(gateways.map(key));
  const modelApis: ModelAPI[] = [];
  for (const api of resources.modelApis) {
    const ref = api.spec.gatewayRef;
    if (!ref) {
      if (isDefault) modelApis.push(api);
      continue;
    }
    const wanted = `${ref.namespace ?? api.metadata.namespace ?? 'default'}/${ref.name}`;
    if (wanted === ownName) modelApis.push(api);
    else if (!existing.has(wanted) && isDefault)
      statuses.push(
        statusOf('ModelAPI', api, [
          condition(
            'Accepted',
            'False',
            'GatewayNotFound',
            `spec.gatewayRef names ModelGateway ${wanted}, which does not exist`,
          ),
          condition('Ready', 'False', 'NotAccepted', 'not accepted'),
        ]),
      );
    else if (gatewayName === undefined && existing.has(wanted))
      statuses.push(
        statusOf('ModelAPI', api, [
          condition(
            'Accepted',
            'False',
            'GatewayNotInEffect',
            `spec.gatewayRef names ModelGateway ${wanted}, which no install serves here (this one serves ${ownName ?? 'no ModelGateway'}; start the install for ${wanted} with --gateway ${wanted})`,
          ),
          condition('Ready', 'False', 'NotAccepted', 'not accepted'),
        ]),
      );
  }
  return { gateway: own, name: ownName, modelApis, statuses };
}

function statusOf(
  kind: string,
  obj: ModelAPI | ModelGateway,
  conditions: ResourceStatus['conditions'],
): ResourceStatus {
  return {
    ref: `${kind}/${key(obj)}`,
    ...(obj.metadata.generation !== undefined ? { observedGeneration: obj.metadata.generation } : {}),
    conditions: [...conditions],
  };
}

function key(obj: { metadata: { name: string; namespace?: string | undefined } }): string {
  return `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
}

function byAge(a: ModelGateway, b: ModelGateway): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta !== tb ? (ta < tb ? -1 : 1) : key(a).localeCompare(key(b));
}
