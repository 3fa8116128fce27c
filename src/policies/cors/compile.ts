/** CORS at compile time: the defaults filled in; credentials with the origin `*` refused (the standard forbids it). */
import { durationMs } from '../../common/durations.ts';
import type { CorsPolicy } from '../../snapshot/types.ts';
import { DEFAULT_API_KEY_HEADER } from '../auth/compile.ts';
import type { CompileStep } from '../compile-step.ts';

export const corsCompile: CompileStep<'cors'> = {
  field: 'cors',
  compile({ api, problems }): CorsPolicy | undefined {
    const c = api.spec.cors;
    if (!c) return undefined;
    const credentialsWithAnyOrigin = c.allowCredentials === true && c.allowOrigins.includes('*');
    if (credentialsWithAnyOrigin)
      problems.push('cors: allowCredentials cannot be used with the origin `*`; credentials are not allowed');
    return {
      allowOrigins: c.allowOrigins,
      allowMethods: c.allowMethods ?? ['GET', 'POST', 'OPTIONS'],
      allowHeaders: c.allowHeaders ?? ['content-type', 'authorization', DEFAULT_API_KEY_HEADER],
      exposeHeaders: c.exposeHeaders ?? ['x-request-id', 'x-model-version'],
      allowCredentials: c.allowCredentials === true && !credentialsWithAnyOrigin,
      maxAgeSeconds: Math.round((durationMs(c.maxAge) ?? 600_000) / 1000),
    };
  },
};
