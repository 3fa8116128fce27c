/**
 * The one catalog of API change rules. Every change the diff engine reports names a rule here: a stable id (never
 * reused or renamed — CI pipelines match on it), its level and what it means for a consumer.
 */

/** How a change affects existing consumers. */
export type ChangeLevel = 'breaking' | 'potentially-breaking' | 'non-breaking';

/** One rule. */
export interface ChangeRule {
  readonly level: ChangeLevel;
  readonly doc: string;
}

function rule(level: ChangeLevel, doc: string): ChangeRule {
  return { level, doc };
}

/** The catalog, keyed by rule id. */
export const CHANGE_RULES = {
  'path-added': rule('non-breaking', 'A new path.'),
  'path-removed': rule('breaking', 'A path and all its operations are gone.'),
  'operation-added': rule('non-breaking', 'A new operation on an existing path.'),
  'operation-removed': rule('breaking', 'An operation is gone.'),
  'deprecated-operation-removed': rule('non-breaking', 'A deprecated operation was removed after its sunset date.'),
  'operation-removed-before-sunset': rule(
    'breaking',
    'A deprecated operation was removed before the sunset date it announced.',
  ),
  'operation-deprecated': rule('non-breaking', 'An operation is now deprecated: plan the move to its successor.'),
  'parameter-added-required': rule('breaking', 'A new required parameter: existing calls do not send it.'),
  'parameter-added': rule('non-breaking', 'A new optional parameter.'),
  'parameter-removed': rule(
    'potentially-breaking',
    'A parameter is no longer documented; calls that send it may fail.',
  ),
  'parameter-moved': rule('breaking', 'A parameter moved (e.g. from the query to a header).'),
  'parameter-became-required': rule('breaking', 'An optional parameter is now required.'),
  'parameter-type-narrowed': rule('breaking', 'A parameter accepts fewer types than before.'),
  'parameter-enum-value-removed': rule('breaking', 'A parameter no longer accepts a value it used to.'),
  'parameter-constraint-tightened': rule('breaking', 'A parameter accepts a smaller range, length or pattern.'),
  'request-body-added-required': rule('breaking', 'The operation now requires a request body.'),
  'request-body-became-required': rule('breaking', 'The request body was optional and is now required.'),
  'request-media-type-removed': rule('breaking', 'A request media type is no longer accepted.'),
  'request-media-type-added': rule('non-breaking', 'A new request media type is accepted.'),
  'request-property-added': rule('non-breaking', 'A new optional request property.'),
  'request-required-property-added': rule('breaking', 'A new required request property: existing calls lack it.'),
  'request-property-became-required': rule('breaking', 'An optional request property is now required.'),
  'request-property-removed': rule(
    'breaking',
    'A request property is no longer accepted (refused when additional properties are not allowed).',
  ),
  'request-property-removed-open': rule(
    'potentially-breaking',
    'A request property is no longer documented; additional properties are still allowed, so it may be ignored.',
  ),
  'request-type-narrowed': rule('breaking', 'A request value accepts fewer types than before.'),
  'request-type-widened': rule('non-breaking', 'A request value accepts more types.'),
  'request-enum-value-removed': rule('breaking', 'A request value no longer accepts an enum value.'),
  'request-enum-value-added': rule('non-breaking', 'A request value accepts a new enum value.'),
  'request-constraint-tightened': rule(
    'breaking',
    'A request value accepts a smaller range or length (minimum, maximum, minLength, maxLength, minItems, maxItems, multipleOf).',
  ),
  'request-pattern-changed': rule('potentially-breaking', 'A request string must match a new pattern.'),
  'request-value-changed': rule('breaking', 'A request value fixed by `const` must now be another value.'),
  'request-additional-properties-forbidden': rule('breaking', 'A request object no longer accepts extra properties.'),
  'request-alternative-removed': rule('breaking', 'A request schema no longer accepts one of its alternatives.'),
  'request-alternative-added': rule('non-breaking', 'A request schema accepts a new alternative.'),
  'response-status-removed': rule('breaking', 'A success status is no longer answered.'),
  'response-error-status-removed': rule('potentially-breaking', 'An error status is no longer documented.'),
  'response-status-added': rule('non-breaking', 'A new documented status.'),
  'response-media-type-removed': rule('breaking', 'A response media type is no longer produced.'),
  'response-property-removed': rule('breaking', 'A response property is gone.'),
  'response-property-became-optional': rule(
    'potentially-breaking',
    'A response property that was always present may now be missing.',
  ),
  'response-property-added': rule('non-breaking', 'A new response property.'),
  'response-type-changed': rule('breaking', 'A response value may now have a type it never had.'),
  'response-enum-value-added': rule(
    'potentially-breaking',
    'A response value may be a new enum value that consumers do not handle.',
  ),
  'response-value-changed': rule('breaking', 'A response value fixed by `const` is now another value.'),
  'response-alternative-added': rule('potentially-breaking', 'A response may now take a new form.'),
  'security-requirement-added': rule('breaking', 'The operation now needs credentials it did not need before.'),
  'security-requirement-removed': rule('non-breaking', 'The operation needs fewer credentials.'),
  'v2-tensor-removed': rule('breaking', 'A V2 tensor (input or output) is gone.'),
  'v2-tensor-added': rule('potentially-breaking', 'A new V2 input: required inputs break existing calls.'),
  'v2-output-added': rule('non-breaking', 'A new V2 output tensor.'),
  'v2-tensor-renamed': rule('breaking', 'The single V2 tensor has a new name.'),
  'v2-tensor-datatype-changed': rule('breaking', 'A V2 tensor has another datatype.'),
  'v2-tensor-rank-changed': rule('breaking', 'A V2 tensor has a different number of dimensions.'),
  'v2-tensor-shape-changed': rule('breaking', 'A fixed dimension of a V2 tensor changed or a free one became fixed.'),
  'v2-tensor-shape-relaxed': rule('non-breaking', 'A fixed dimension of a V2 input is now free.'),
} as const satisfies Record<string, ChangeRule>;

/** A rule id. */
export type RuleId = keyof typeof CHANGE_RULES;

/** One change between two documents. */
export interface ApiChange {
  readonly rule: RuleId;
  readonly level: ChangeLevel;
  /** `METHOD /path` of the operation it is in, when it is in one. */
  readonly operation?: string;
  readonly message: string;
  /** JSON pointer of where it is, in the new document (or the old one for what was removed). */
  readonly pointer: string;
}

const LEVEL_ORDER: Record<ChangeLevel, number> = { breaking: 0, 'potentially-breaking': 1, 'non-breaking': 2 };

/** Orders changes: breaking first, then by operation and pointer (stable for golden files and changelogs). */
export function sortChanges(changes: readonly ApiChange[]): ApiChange[] {
  return [...changes].sort(
    (a, b) =>
      LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] ||
      (a.operation ?? '').localeCompare(b.operation ?? '') ||
      a.pointer.localeCompare(b.pointer) ||
      a.rule.localeCompare(b.rule),
  );
}

/** Whether `level` is at least as severe as `threshold`. */
export function atLeast(level: ChangeLevel, threshold: ChangeLevel): boolean {
  return LEVEL_ORDER[level] <= LEVEL_ORDER[threshold];
}
