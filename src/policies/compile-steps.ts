/**
 * The compile table: every traffic policy's compile step. The order is the order of the problems reported in a
 * ModelAPI's ResolvedRefs condition; the order the data plane runs the policies in is request-phases.ts's.
 */
import { authCompile } from './auth/compile.ts';
import { cacheCompile } from './cache/compile.ts';
import type { CompileStep } from './compile-step.ts';
import { corsCompile } from './cors/compile.ts';
import { ipAccessCompile } from './ip-access/compile.ts';
import { rateLimitCompile } from './rate-limit/compile.ts';
import { tokenLimitCompile } from './token-limit/compile.ts';
import { validationCompile } from './validation/compile.ts';

export const COMPILE_STEPS: readonly CompileStep[] = [
  authCompile,
  corsCompile,
  rateLimitCompile,
  tokenLimitCompile,
  cacheCompile,
  validationCompile,
  ipAccessCompile,
];
