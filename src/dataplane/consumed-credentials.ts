/**
 * Credentials the gateway consumed never reach the model. Headers are dropped with the identity
 * (data-plane.ts, setIdentityHeaders); this removes the query parameters that may carry one (an API key provider's
 * `query`), whether or not the key in it was the one that authenticated: a credential is never forwarded.
 */

/** `query` (without `?`) without the parameters named in `names`; the others keep their exact bytes and order. */
export function withoutCredentialParams(query: string, names: readonly string[]): string {
  if (query === '') return query;
  const kept: string[] = [];
  let dropped = false;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const raw = eq === -1 ? pair : pair.slice(0, eq);
    if (names.includes(decodeName(raw))) dropped = true;
    else kept.push(pair);
  }
  return dropped ? kept.join('&') : query;
}

/** A parameter name as URLSearchParams reads it (`+` is a space, percent-escapes decoded, bad escapes kept). */
function decodeName(raw: string): string {
  const spaced = raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}
