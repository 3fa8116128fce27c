import type { Secret } from '../schema/core.ts';

/** One entry of a Secret as text: `stringData` as written, `data` decoded from base64. */
export function secretEntry(secret: Secret, key: string): string | undefined {
  const text = secret.stringData?.[key];
  if (text !== undefined && text !== '') return text;
  const data = secret.data?.[key];
  return data ? Buffer.from(data, 'base64').toString('utf8') : undefined;
}
