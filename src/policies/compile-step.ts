/**
 * What a traffic policy is at compile time: a step that turns its ModelAPI field (with the ModelGateway and the
 * Secrets it names) into the compiled policy every Forward rule of the API carries. Pure; a reference that cannot be
 * resolved is reported in `problems` (the API's ResolvedRefs condition) and fails closed where it matters (an
 * unresolved key Secret means nobody gets in).
 *
 * Files named compile*.ts under src/policies/ belong to the compiler stage, the others to the data plane
 * (test/project/import-rules.test.ts): a policy's folder holds both, and neither may reach into the other.
 */
import type { Secret } from '../schema/core.ts';
import type { ModelAPI } from '../schema/model-api.ts';
import type { ModelGateway } from '../schema/model-gateway.ts';
import type { RouteAction } from '../snapshot/types.ts';

/** The policies a Forward rule can carry, by the ModelAPI field (and action key) that names them. */
export type PolicyKey = 'auth' | 'cors' | 'ipAccess' | 'rateLimit' | 'tokenLimit' | 'cache' | 'validation';

/** The compiled policies of one ModelAPI. */
export type PolicySet = Partial<Pick<Extract<RouteAction, { type: 'Forward' }>, PolicyKey>>;

/** What a compile step reads. */
export interface PolicyInput {
  readonly api: ModelAPI;
  readonly gateway: ModelGateway | undefined;
  readonly secrets: readonly Secret[];
  /** `namespace/name` of the ModelAPI. */
  readonly id: string;
  /** Where a step reports what it could not resolve (joined into the ResolvedRefs condition). */
  readonly problems: string[];
}

/** One policy's compile step. */
export interface CompileStep<K extends PolicyKey = PolicyKey> {
  /** The ModelAPI spec field that turns the policy on, and the key of the compiled policy on the rule's action. */
  readonly field: K;
  /** The compiled policy, or undefined when the field sets nothing that acts. */
  compile(input: PolicyInput): PolicySet[K] | undefined;
}
