/** The token budget at compile time: OpenAI-compatible APIs only (the usage their answers report). */
import type { CompileStep } from '../compile-step.ts';
import { bucket } from '../rate-limit/compile.ts';

export const tokenLimitCompile: CompileStep<'tokenLimit'> = {
  field: 'tokenLimit',
  compile(input) {
    const tl = input.api.spec.tokenLimit;
    if (!tl) return undefined;
    if (input.api.spec.protocol !== 'openai') {
      input.problems.push('tokenLimit applies to the openai protocol only (the usage the model reports); ignored');
      return undefined;
    }
    return bucket(input, 'tokenLimit', tl, tl.tokens);
  },
};
