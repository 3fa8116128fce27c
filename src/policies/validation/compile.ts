/** Request validation at compile time: which published documents to check against, and what to do on a violation. */
import type { CompileStep } from '../compile-step.ts';

export const validationCompile: CompileStep<'validation'> = {
  field: 'validation',
  compile: ({ api, id }) =>
    api.spec.validation
      ? { ref: `ModelAPI/${id}`, mode: api.spec.validation.mode ?? 'enforce', protocol: api.spec.protocol }
      : undefined,
};
