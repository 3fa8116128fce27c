/**
 * Traffic policies of a ModelAPI, compiled into its rules by the compile table (policies/compile-steps.ts): each
 * policy's own step turns its field into what the data plane's phase reads. What a step cannot resolve is reported in
 * the ResolvedRefs condition. Pure.
 */

import type { PolicyInput, PolicySet } from '../policies/compile-step.ts';
import { COMPILE_STEPS } from '../policies/compile-steps.ts';
import type { ConditionInput } from '../resources/status.ts';
import { condition } from '../resources/status.ts';
import type { Secret } from '../schema/core.ts';
import type { ModelAPI } from '../schema/model-api.ts';
import type { ModelGateway } from '../schema/model-gateway.ts';
import type { RouteRule } from '../snapshot/types.ts';

/** What the policies of one ModelAPI compile to. */
export type CompiledPolicies = PolicySet & { readonly problems: ConditionInput[] };

/** Whether a ModelAPI sets any traffic policy (a field of the compile table). */
export function hasPolicies(api: ModelAPI): boolean {
  return COMPILE_STEPS.some((step) => api.spec[step.field] !== undefined);
}

/** Compiles the traffic policies of a ModelAPI. */
export function compilePolicies(
  api: ModelAPI,
  gateway: ModelGateway | undefined,
  secrets: readonly Secret[],
): CompiledPolicies {
  const problems: string[] = [];
  const input: PolicyInput = {
    api,
    gateway,
    secrets,
    id: `${api.metadata.namespace ?? 'default'}/${api.metadata.name}`,
    problems,
  };
  const set: Record<string, unknown> = {};
  for (const step of COMPILE_STEPS) {
    if (api.spec[step.field] === undefined) continue;
    const compiled = step.compile(input);
    if (compiled !== undefined) set[step.field] = compiled;
  }
  return {
    ...(set as PolicySet),
    problems:
      problems.length > 0 ? [condition('ResolvedRefs', 'False', 'PolicyRefNotResolved', problems.join('; '))] : [],
  };
}

/** Adds the policies to every Forward rule of the API. */
export function withPolicies(rules: readonly RouteRule[], policies: CompiledPolicies): RouteRule[] {
  const { problems: _, ...set } = policies;
  if (Object.keys(set).length === 0) return [...rules];
  return rules.map((rule) =>
    rule.action.type === 'Forward'
      ? {
          ...rule,
          action: {
            ...rule.action,
            ...set,
          },
        }
      : rule,
  );
}
