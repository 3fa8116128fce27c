/**
 * Checks a JSON Schema cannot state, run right after it on every resource (file mode, `validate` and Kubernetes mode
 * alike), so that what validates is what serves: the things an API server's own validation refuses (base64 in a
 * Secret, EndpointSlice addresses of their type), dates that exist, version names that are unique, and no
 * credentials inline in the URLs the schema marks as secret-carrying (they belong in Secrets).
 */
import { isIP } from 'node:net';
import { KINDS } from './kinds.ts';
import { OPTIONAL_ENDPOINTS } from './model-api.ts';
import { type SecretField, secretFields, secretValues, urlCredentials } from './secret-fields.ts';
import type { SchemaViolation } from './validate.ts';

/** The secret-marked fields of every kind, from the one schema. */
const SECRET_FIELDS = new Map<string, SecretField[]>(KINDS.map((k) => [k.kind, secretFields(k.schema)]));

type Obj = Record<string, unknown>;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2})))?$/;

/** The violations of the rules below for one resource that passed its schema. */
export function semanticViolations(kind: string, obj: Obj): SchemaViolation[] {
  const out: SchemaViolation[] = [];
  switch (kind) {
    case 'Secret':
      for (const [key, value] of Object.entries((obj.data as Obj | undefined) ?? {}))
        if (typeof value === 'string' && !BASE64.test(value))
          out.push({
            pointer: `/data/${pointerEscape(key)}`,
            message: 'is not valid base64 (use stringData for plain text)',
          });
      break;
    case 'EndpointSlice': {
      const type = obj.addressType as string;
      for (const [i, e] of ((obj.endpoints as Obj[] | undefined) ?? []).entries())
        for (const [j, address] of ((e.addresses as string[] | undefined) ?? []).entries()) {
          const ok =
            type === 'IPv4' ? isIP(address) === 4 : type === 'IPv6' ? isIP(address) === 6 : DNS_NAME.test(address);
          if (!ok) out.push({ pointer: `/endpoints/${i}/addresses/${j}`, message: `is not a valid ${type} address` });
        }
      break;
    }
    case 'ModelGateway': {
      const auth = ((obj.spec as Obj | undefined)?.docs as Obj | undefined)?.auth as Obj | undefined;
      if (auth && auth.providers === undefined && auth.oidc === undefined)
        out.push({ pointer: '/spec/docs/auth', message: 'needs `providers`, `oidc` or both' });
      break;
    }
    case 'ModelAPI': {
      const spec = (obj.spec as Obj | undefined) ?? {};
      const protocol = spec.protocol as string;
      const endpoints = ((spec.docs as Obj | undefined)?.endpoints as string[] | undefined) ?? [];
      for (const [i, e] of endpoints.entries())
        if (!OPTIONAL_ENDPOINTS[protocol]?.all.includes(e))
          out.push({
            pointer: `/spec/docs/endpoints/${i}`,
            message: OPTIONAL_ENDPOINTS[protocol]
              ? `is not an optional endpoint of ${protocol} (${OPTIONAL_ENDPOINTS[protocol].all.join(', ')})`
              : `${protocol} APIs have no optional endpoints to declare`,
          });
      const versions = (spec.versions as Obj[] | undefined) ?? [];
      const seen = new Map<string, number>();
      for (const [i, v] of versions.entries()) {
        const name = v.name as string;
        const first = seen.get(name);
        if (first !== undefined)
          out.push({ pointer: `/spec/versions/${i}/name`, message: `duplicates the name of versions[${first}]` });
        else seen.set(name, i);
        for (const field of ['sunset', 'deprecatedAt'] as const) {
          const value = v[field];
          if (typeof value === 'string' && !realDate(value))
            out.push({ pointer: `/spec/versions/${i}/${field}`, message: 'is not a date that exists' });
        }
      }
      break;
    }
  }
  // Every URL the schema marks as carrying secrets: no credentials inline (they would travel with the configuration
  // and be shown wherever the URL is); they belong in a Secret.
  const fields = SECRET_FIELDS.get(kind);
  if (fields)
    for (const { pointer, form, value } of secretValues(fields, obj))
      if (form === 'url' && urlCredentials(value).userinfo !== undefined)
        out.push({
          pointer,
          message: `carries credentials (user:password@): they would be shown wherever the URL is; ${
            kind === 'ModelGateway' && pointer === '/spec/redis/url'
              ? 'give them in a Secret (spec.redis.auth)'
              : 'give them in a Secret'
          }`,
        });
  if (kind === 'ModelGateway') {
    const redis = ((obj.spec as Obj | undefined)?.redis as Obj | undefined) ?? undefined;
    if (redis?.tls && typeof redis.url === 'string' && !redis.url.startsWith('rediss://'))
      out.push({ pointer: '/spec/redis/tls', message: 'needs a rediss:// URL (redis:// is plain TCP)' });
  }
  return out;
}

/** A `YYYY-MM-DD` or RFC 3339 date whose month, day and time exist. */
export function realDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const [, y, mo, d, h = '0', mi = '0', s = '0', oh = '0', om = '0'] = m;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  return (
    date.getUTCMonth() === Number(mo) - 1 &&
    date.getUTCDate() === Number(d) &&
    Number(h) < 24 &&
    Number(mi) < 60 &&
    Number(s) < 61 &&
    Number(oh) < 24 &&
    Number(om) < 60
  );
}

function pointerEscape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
