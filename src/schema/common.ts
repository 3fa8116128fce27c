/**
 * Schema building blocks shared by every resource kind. Everything here must stay expressible as a *structural*
 * Kubernetes schema (explicit types, no $ref), because the CRDs are generated from the same objects.
 */
import { type TSchema, type TUnsafe, Type } from '@sinclair/typebox';

/** A string limited to a fixed set of values (rendered as `enum`, which both Ajv and CRDs understand). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description?: string; default?: T[number] } = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** Gateway API style duration: `500ms`, `30s`, `1m30s`, `2h`. */
/**
 * Schema keyword marking a field that holds or may carry a secret: `value` (the whole string is secret, e.g. Secret
 * data) or `url` (a URL whose userinfo and query values may be credentials). Redaction (/config, logs, statuses,
 * Events) and its test are driven by these marks (src/schema/secret-fields.ts); the CRD generator drops the keyword.
 */
export const SECRET_KEYWORD = 'x-modelgate-secret';
export type SecretForm = 'value' | 'url';
export const secret = (form: SecretForm) => ({ [SECRET_KEYWORD]: form });

/** A reference to a Secret by name, in the referring resource's namespace unless another is given. */
export const SecretRef = (description: string) =>
  Type.Object(
    { name: Type.String({ minLength: 1 }), namespace: Type.Optional(Type.String({ minLength: 1 })) },
    { additionalProperties: false, description },
  );

export const DURATION_PATTERN = '^([0-9]{1,5}(h|m|s|ms)){1,4}$';

/** A duration string such as `30s` or `1m30s`. */
export const Duration = (description: string) => Type.String({ pattern: DURATION_PATTERN, description });

/**
 * A duration the gateway waits with a timer (timeouts, intervals, backoffs): at most 596h, the longest delay a
 * JavaScript timer keeps (2^31−1 ms; a longer one fires after 1 ms).
 */
export const TimerDuration = (description: string) =>
  Type.String({
    pattern: DURATION_PATTERN,
    description,
    'x-kubernetes-validations': [
      { rule: "duration(self) <= duration('596h')", message: 'must be at most 596h (the longest timer, 24.8 days)' },
    ],
  });

/** A Kubernetes port reference: a number or the name of a named port. */
export const IntOrString = (description: string) =>
  Type.Unsafe<number | string>({
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    description,
  });

/** The metadata fields modelgate reads; everything else Kubernetes puts there is allowed and ignored. */
export const ObjectMeta = Type.Object(
  {
    // Kubernetes object names (DNS subdomains) and namespaces (DNS labels): what an API server accepts.
    name: Type.String({ minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' }),
    namespace: Type.Optional(Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' })),
    uid: Type.Optional(Type.String()),
    generation: Type.Optional(Type.Integer()),
    resourceVersion: Type.Optional(Type.String()),
    creationTimestamp: Type.Optional(Type.String()),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: true },
);

/** A status condition exactly as metav1.Condition defines it. */
export const Condition = Type.Object({
  type: Type.String({ maxLength: 316 }),
  status: StringEnum(['True', 'False', 'Unknown']),
  reason: Type.String({ maxLength: 1024 }),
  message: Type.String({ maxLength: 32768 }),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  lastTransitionTime: Type.String({ format: 'date-time' }),
});

/** Marks a schema as documented; used to keep every field of the reference described. */
export function described<T extends TSchema>(schema: T, description: string): T {
  return { ...schema, description };
}
