/** Client address lists at compile time: kept as written (addresses and CIDR ranges the schema checked). */
import type { CompileStep } from '../compile-step.ts';

export const ipAccessCompile: CompileStep<'ipAccess'> = {
  field: 'ipAccess',
  compile({ api }) {
    const ip = api.spec.ipAccess;
    if (!ip || (!ip.allow && !ip.deny)) return undefined;
    return { ...(ip.allow ? { allow: ip.allow } : {}), ...(ip.deny ? { deny: ip.deny } : {}) };
  },
};
