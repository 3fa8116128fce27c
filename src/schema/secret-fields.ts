/**
 * The fields of the schema marked as holding or carrying secrets (SECRET_KEYWORD), found by walking the schema, and
 * their values in a resource. One list drives what is refused (credentials inline in a URL), what is redacted
 * (/config, logs, statuses, Events) and the test that proves it, so a new secret field needs only its mark.
 */
import type { TSchema } from '@sinclair/typebox';
import { SECRET_KEYWORD, type SecretForm } from './common.ts';

type Json = Record<string, unknown>;

/** A marked field: its path (`*` for any array item or map value) and its form. */
export interface SecretField {
  readonly path: readonly string[];
  readonly form: SecretForm;
  /** `base64` when the schema says the value is encoded (Secret `data`). */
  readonly encoding?: 'base64';
}

/** Every marked field below `schema`. */
export function secretFields(schema: TSchema | Json): SecretField[] {
  const out: SecretField[] = [];
  const walk = (node: Json, path: string[]) => {
    const form = node[SECRET_KEYWORD] as SecretForm | undefined;
    if (form) out.push({ path, form, ...(node.contentEncoding === 'base64' ? { encoding: 'base64' as const } : {}) });
    for (const [k, v] of Object.entries((node.properties as Json | undefined) ?? {})) walk(v as Json, [...path, k]);
    if (typeof node.items === 'object' && node.items !== null) walk(node.items as Json, [...path, '*']);
    if (typeof node.additionalProperties === 'object' && node.additionalProperties !== null)
      walk(node.additionalProperties as Json, [...path, '*']);
    for (const v of Object.values((node.patternProperties as Json | undefined) ?? {})) walk(v as Json, [...path, '*']);
    for (const key of ['anyOf', 'oneOf', 'allOf'])
      for (const v of (node[key] as Json[] | undefined) ?? []) walk(v, path);
  };
  walk(schema as Json, []);
  return out;
}

/** The values of the marked fields in `object`, with their JSON pointers. */
export function secretValues(
  fields: readonly SecretField[],
  object: unknown,
): { pointer: string; form: SecretForm; value: string; encoding?: 'base64' }[] {
  const out: { pointer: string; form: SecretForm; value: string; encoding?: 'base64' }[] = [];
  for (const field of fields) {
    const visit = (node: unknown, i: number, pointer: string) => {
      if (i === field.path.length) {
        if (typeof node === 'string')
          out.push({ pointer, form: field.form, value: node, ...(field.encoding ? { encoding: field.encoding } : {}) });
        return;
      }
      if (typeof node !== 'object' || node === null) return;
      const step = field.path[i]!;
      const entries = step === '*' ? Object.entries(node) : [[step, (node as Json)[step]] as const];
      for (const [k, v] of entries) visit(v, i + 1, `${pointer}/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`);
    };
    visit(object, 0, '');
  }
  return out;
}

/** The parts of a URL-form value that are credentials: the userinfo, and the value of every query parameter. */
export function urlCredentials(url: string): { userinfo: string | undefined; queryValues: string[] } {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? '';
  const at = authority.lastIndexOf('@');
  const query = /\?([^#]*)/.exec(url)?.[1] ?? '';
  const queryValues = query
    .split('&')
    .map((pair) => (pair.includes('=') ? pair.slice(pair.indexOf('=') + 1) : ''))
    .filter((v) => v !== '');
  return { userinfo: at >= 0 ? authority.slice(0, at) : undefined, queryValues };
}

/**
 * The strings of `object` (a resource of a kind whose schema is `fields`) that must never be shown: the value of each
 * `value` field (and its decoded form), and the userinfo and query values of each `url` field.
 */
export function secretStrings(fields: readonly SecretField[], object: unknown): string[] {
  const out: string[] = [];
  for (const { form, value, encoding } of secretValues(fields, object)) {
    if (form === 'value') {
      out.push(value);
      if (encoding === 'base64') out.push(Buffer.from(value, 'base64').toString('utf8'));
      continue;
    }
    const { userinfo, queryValues } = urlCredentials(value);
    if (userinfo !== undefined) out.push(userinfo, ...userinfo.split(':'));
    for (const v of queryValues) {
      out.push(v);
      try {
        out.push(decodeURIComponent(v.replaceAll('+', ' ')));
      } catch {
        // not percent-encoded text: the raw form is enough
      }
    }
  }
  return out;
}
