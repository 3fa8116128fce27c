/**
 * The CEL rules (`x-kubernetes-validations`) of the schema, checked outside a cluster too. A real API server evaluates
 * them with CEL; file mode and `validate` use this evaluator of the few rule shapes the schema uses, so both say the
 * same thing. A rule of another shape is an error at start-up (the schema must not hold a rule file mode ignores).
 */
import { durationMs } from '../common/durations.ts';

/** A rule as the schema declares it. */
export interface CelRule {
  readonly rule: string;
  readonly message: string;
}

/** A rule compiled to a check on the value it is attached to. */
export type CelCheck = (self: unknown) => boolean;

const HAS_XOR = /^has\(self\.(\w+)\) != has\(self\.(\w+)\)$/;
const DURATION_AT_MOST = /^duration\(self\) <= duration\('([0-9hms]+)'\)$/;

/** Compiles one rule; throws for a shape this evaluator does not know. */
export function compileCelRule(rule: string): CelCheck {
  const xor = HAS_XOR.exec(rule);
  if (xor) {
    const [, a, b] = xor;
    return (self) => {
      const o = (self ?? {}) as Record<string, unknown>;
      return (o[a!] !== undefined) !== (o[b!] !== undefined);
    };
  }
  const atMost = DURATION_AT_MOST.exec(rule);
  if (atMost) {
    const limit = durationMs(atMost[1])!;
    return (self) => typeof self !== 'string' || (durationMs(self) ?? 0) <= limit;
  }
  throw new Error(`x-kubernetes-validations: no evaluator for the rule ${JSON.stringify(rule)}`);
}
