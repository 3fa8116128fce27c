/**
 * Keeps secret values out of what the gateway shows: /config, logs, statuses and Events. It knows the secret strings
 * of the configuration in effect (Secret values, credentials in URLs — found through the schema's secret marks, see
 * src/schema/secret-fields.ts) and replaces every occurrence with `[redacted]`; independently of what it knows, it
 * masks the userinfo of any URL and the value of query parameters whose names say credential (token, key, secret,
 * password, signature, auth, session). Strings shorter than four characters are not searched for in free text
 * (they would match everywhere); the structured views never contain secret values in the first place.
 */

export const REDACTED = '[redacted]';
const MIN_LENGTH = 4;
/** Old secrets are still redacted after a rotation (messages about the old value may follow), up to this many. */
const MAX_KNOWN = 20_000;

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi;
const CREDENTIAL_QUERY =
  /([?&][^=&\s#"'<>]*(?:token|key|secret|passw|pwd|sig|auth|credential|session)[^=&\s#"'<>]*=)[^&\s#"'<>]+/gi;

export class SecretRedactor {
  readonly #known = new Set<string>();
  #pattern: RegExp | undefined;

  /** Adds the secret strings of a configuration (the ones already known stay known). */
  learn(values: Iterable<string>): void {
    let changed = false;
    for (const value of values) {
      if (value.length < MIN_LENGTH || this.#known.has(value)) continue;
      this.#known.add(value);
      // In a JSON log line the value appears escaped.
      const escaped = JSON.stringify(value).slice(1, -1);
      if (escaped !== value) this.#known.add(escaped);
      changed = true;
    }
    if (!changed) return;
    while (this.#known.size > MAX_KNOWN) this.#known.delete(this.#known.values().next().value!);
    // Longest first, so a secret that contains another is replaced whole.
    const sorted = [...this.#known].sort((a, b) => b.length - a.length);
    this.#pattern = new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
  }

  redactText(text: string): string {
    let out = this.#pattern && text.length >= MIN_LENGTH ? text.replace(this.#pattern, REDACTED) : text;
    if (out.includes('://')) out = out.replace(URL_USERINFO, `$1${REDACTED}@`);
    if (out.includes('=')) out = out.replace(CREDENTIAL_QUERY, `$1${REDACTED}`);
    return out;
  }

  /** A copy of `value` with every string value redacted (keys are field names and are kept). */
  redactJson<T>(value: T): T {
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.redactText(v);
      if (Array.isArray(v)) return v.map(walk);
      if (typeof v === 'object' && v !== null)
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    // Through JSON first: what is shown is what JSON.stringify makes of it (toJSON, no undefined, no class internals).
    const text = JSON.stringify(value);
    return (text === undefined ? value : walk(JSON.parse(text))) as T;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
