/**
 * The docs plane's OpenID Connect sign-on (`spec.docs.auth.oidc` of the ModelGateway), with the client secret read
 * from its Secret. A missing Secret (or entry) is a problem on the ModelGateway's status and leaves sign-on out: the
 * docs then answer 503 rather than open up (see data-plane.ts). Pure.
 */
import { durationMs } from '../common/durations.ts';
import type { Secret } from '../schema/core.ts';
import type { ModelGateway } from '../schema/model-gateway.ts';
import type { DocsSignOn } from '../snapshot/types.ts';
import { findSecret, secretEntry } from './secret-entry.ts';

const DEFAULT_SCOPES = ['openid', 'profile', 'email'];
const DEFAULT_SESSION_MS = 12 * 3600_000;

export function compileDocsSignOn(
  gateway: ModelGateway | undefined,
  secrets: readonly Secret[],
): { readonly signOn?: DocsSignOn; readonly problems: readonly string[] } {
  const auth = gateway?.spec.docs?.auth;
  const oidc = auth?.oidc;
  if (!gateway || !auth || !oidc) return { problems: [] };
  const { source, secret } = findSecret(secrets, oidc.clientSecret, gateway.metadata.namespace ?? 'default');
  const clientSecret = secret ? secretEntry(secret, 'client-secret') : undefined;
  if (!secret) return { problems: [`docs.auth.oidc: ${source} not found`] };
  if (!clientSecret) return { problems: [`docs.auth.oidc: ${source} has no \`client-secret\``] };
  const scopes = oidc.scopes ?? DEFAULT_SCOPES;
  return {
    signOn: {
      issuer: oidc.issuer.replace(/\/$/, ''),
      clientId: oidc.clientID,
      clientSecret,
      secretSource: source,
      scopes: scopes.includes('openid') ? scopes : ['openid', ...scopes],
      groupsClaim: oidc.groupsClaim ?? 'groups',
      requiredClaims: oidc.claims ?? {},
      ...(auth.allow?.subjects ? { allowSubjects: auth.allow.subjects } : {}),
      ...(auth.allow?.groups ? { allowGroups: auth.allow.groups } : {}),
      sessionMaxAgeMs: durationMs(oidc.sessionMaxAge) ?? DEFAULT_SESSION_MS,
    },
    problems: [],
  };
}
