import { KINDS } from '../schema/kinds.ts';
import { type SecretField, secretFields, secretStrings } from '../schema/secret-fields.ts';
import type { ResourceSet } from './types.ts';

const FIELDS = new Map<string, SecretField[]>(
  KINDS.map((k) => [k.kind, secretFields(k.schema)] as const).filter(([, f]) => f.length > 0),
);

/** Every secret string of a configuration, as the schema's secret marks find them (for the redactor). */
export function secretStringsOf(resources: ResourceSet): string[] {
  const out: string[] = [];
  for (const list of Object.values(resources) as readonly { kind?: string }[][])
    for (const object of list) {
      const fields = object.kind ? FIELDS.get(object.kind) : undefined;
      if (fields) out.push(...secretStrings(fields, object));
    }
  return out;
}
