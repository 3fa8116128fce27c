/**
 * Where the schemas of an OpenAPI 3.x document are: a walk that visits each schema object once with its JSON pointer
 * (used by the 3.0 → 3.1 normalisation and the example repair).
 */

type Json = Record<string, unknown>;

const SCHEMA_CONTAINERS = ['items', 'not', 'additionalProperties', 'contains', 'if', 'then', 'else', 'propertyNames'];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];

/**
 * Visits every schema object of the document (components, parameters, request bodies, responses, headers), and
 * with `visitHolder` every object that holds one in its `schema` member (media types, parameters, headers).
 */
export function walkDocument(
  doc: Json,
  visit: (schema: Json, pointer: string) => void,
  visitHolder?: (holder: Json, pointer: string) => void,
): void {
  const seen = new Set<unknown>();
  const walkSchema = (schema: unknown, pointer: string): void => {
    if (!isObject(schema) || seen.has(schema)) return;
    seen.add(schema);
    visit(schema, pointer);
    for (const k of SCHEMA_CONTAINERS) if (isObject(schema[k])) walkSchema(schema[k], `${pointer}/${k}`);
    for (const k of SCHEMA_LISTS)
      if (Array.isArray(schema[k]))
        for (const [i, s] of (schema[k] as unknown[]).entries()) walkSchema(s, `${pointer}/${k}/${i}`);
    for (const k of SCHEMA_MAPS) {
      if (isObject(schema[k]))
        for (const [n, s] of Object.entries(schema[k])) walkSchema(s, `${pointer}/${k}/${esc(n)}`);
    }
  };
  // Any member named `schema` holds a schema (parameters, media types, headers); component schemas are a map.
  const walkAny = (node: unknown, pointer: string): void => {
    if (Array.isArray(node)) {
      for (const [i, n] of node.entries()) walkAny(n, `${pointer}/${i}`);
      return;
    }
    if (!isObject(node)) return;
    if (visitHolder && isObject(node.schema)) visitHolder(node, pointer);
    for (const [k, v] of Object.entries(node)) {
      const p = `${pointer}/${esc(k)}`;
      if (k === 'schema') walkSchema(v, p);
      else if (k === 'schemas' && pointer === '/components' && isObject(v))
        for (const [n, s] of Object.entries(v)) walkSchema(s, `${p}/${esc(n)}`);
      else if (k !== 'example' && k !== 'examples') walkAny(v, p);
    }
  };
  walkAny(doc, '');
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function esc(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
