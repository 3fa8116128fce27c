/** Runtime validation of resources against the same schemas the CRDs are generated from. */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { type CelRule, compileCelRule } from './cel-rules.ts';
import { findKind, KINDS } from './kinds.ts';
import { semanticViolations } from './semantics.ts';

/** One schema violation, located by JSON pointer inside the resource. */
export interface SchemaViolation {
  readonly pointer: string;
  readonly message: string;
}

const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, allowUnionTypes: true });
(addFormatsModule as unknown as (a: Ajv) => void)(ajv);
ajv.addKeyword('x-kubernetes-int-or-string');
// The CEL rules a cluster's API server checks, checked here too (the subset the schema uses: cel-rules.ts).
ajv.addKeyword({
  keyword: 'x-kubernetes-validations',
  schemaType: 'array',
  compile(rules: CelRule[]) {
    const checks = rules.map((r) => ({ check: compileCelRule(r.rule), message: r.message }));
    const validate = (self: unknown): boolean => {
      const failed = checks.find((c) => !c.check(self));
      if (!failed) return true;
      (validate as unknown as { errors: Partial<ErrorObject>[] }).errors = [
        { keyword: 'x-kubernetes-validations', message: failed.message, params: {} },
      ];
      return false;
    };
    return validate;
  },
  errors: true,
});
ajv.addKeyword('x-kubernetes-preserve-unknown-fields');

const validators = new Map<string, ValidateFunction>(
  KINDS.map((k) => [`${k.apiVersion}/${k.kind}`, ajv.compile(k.schema)]),
);

/** Validates a resource of a known kind; returns violations (empty when valid) or undefined for unknown kinds. */
export function validateResource(obj: { apiVersion?: unknown; kind?: unknown }): SchemaViolation[] | undefined {
  const info = findKind(obj.apiVersion, obj.kind);
  if (!info) return undefined;
  const validate = validators.get(`${info.apiVersion}/${info.kind}`)!;
  const semantic = semanticViolations(info.kind, obj as Record<string, unknown>);
  if (validate(obj)) return semantic;
  const violations = simplify(validate.errors ?? []);
  const seen = new Set(violations.map((v) => v.pointer));
  return [...violations, ...semantic.filter((v) => !seen.has(v.pointer))];
}

/**
 * Ajv reports every failed branch of a `oneOf`/`anyOf`; a person wants one sentence per place. Keep the most
 * specific message per pointer and phrase unknown fields and enums the way kubectl does.
 */
function simplify(errors: ErrorObject[]): SchemaViolation[] {
  const byPointer = new Map<string, string>();
  const oneOfPointers = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  for (const e of errors) {
    let pointer = e.instancePath;
    let message: string;
    switch (e.keyword) {
      case 'additionalProperties':
        pointer = `${pointer}/${String(e.params.additionalProperty)}`;
        message = 'unknown field';
        break;
      case 'required':
        if (oneOfPointers.has(e.instancePath) && e.schemaPath.includes('oneOf')) continue;
        pointer = `${pointer}/${String(e.params.missingProperty)}`;
        message = 'required field is missing';
        break;
      case 'enum':
        message = `must be one of: ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'const':
        message = `must be ${JSON.stringify(e.params.allowedValue)}`;
        break;
      case 'oneOf':
        message = describeOneOf(e);
        break;
      case 'anyOf':
        message = 'must be an integer or a string';
        break;
      case 'pattern':
        message =
          pointer === '/metadata/name'
            ? 'must be a Kubernetes name: lower-case letters, digits, "-" and ".", starting and ending alphanumeric'
            : pointer === '/metadata/namespace'
              ? 'must be a Kubernetes namespace: lower-case letters, digits and "-", starting and ending alphanumeric'
              : (e.message ?? 'is invalid');
        break;
      default:
        message = e.message ?? 'is invalid';
    }
    if (!byPointer.has(pointer) || e.keyword === 'oneOf') byPointer.set(pointer, message);
  }
  return [...byPointer].map(([pointer, message]) => ({ pointer, message }));
}

function describeOneOf(e: ErrorObject): string {
  const branches = (e.schema as { required?: string[] }[] | undefined) ?? [];
  const names = branches.flatMap((b) => b.required ?? []);
  return names.length > 0
    ? `exactly one of ${names.map((n) => `'${n}'`).join(' or ')} must be set`
    : 'must match exactly one schema';
}
