import type { Secret } from '../schema/core.ts';

/** One entry of a Secret as text: `stringData` as written, `data` decoded from base64. */
export function secretEntry(secret: Secret, key: string): string | undefined {
  const text = secret.stringData?.[key];
  if (text !== undefined && text !== '') return text;
  const data = secret.data?.[key];
  return data ? Buffer.from(data, 'base64').toString('utf8') : undefined;
}

/** The Secret a reference names (its namespace defaulting to `namespace`), with the ref's `Secret/ns/name` spelling. */
export function findSecret(
  secrets: readonly Secret[],
  ref: { readonly name: string; readonly namespace?: string | undefined },
  namespace: string,
): { readonly source: string; readonly secret: Secret | undefined } {
  const ns = ref.namespace ?? namespace;
  return {
    source: `Secret/${ns}/${ref.name}`,
    secret: secrets.find((s) => s.metadata.name === ref.name && (s.metadata.namespace ?? 'default') === ns),
  };
}
