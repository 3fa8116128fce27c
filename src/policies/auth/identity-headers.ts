import { dropHeaders } from '../../dataplane/headers.ts';
import type { Identity } from './authenticate.ts';

/**
 * The caller's identity on the upstream request: the credential header removed, `x-modelgate-subject` and the
 * forwarded claims/metadata set (replacing any earlier value). A loop over the list instead of a generic header
 * modifier: this runs on every authenticated request.
 */
export function setIdentityHeaders(list: string[], identity: Identity): void {
  const { header: credential, forward, subject } = identity;
  dropHeaders(
    list,
    (name) =>
      name === credential ||
      (name === 'x-modelgate-subject' && subject !== '') ||
      forward.some(([set]) => set === name),
  );
  if (identity.subject) list.push('x-modelgate-subject', identity.subject);
  for (const [name, value] of forward) list.push(name, value);
}
