/**
 * Structural walks over OpenAPI 3.1 documents that know which object keys are user-chosen names (property names,
 * header names, media types, component names …) and which values are opaque data (examples, defaults, enums), so that
 * extensions are stripped and references rewritten without ever touching a property that happens to be called
 * `x-foo` or an example that happens to contain `$ref`. Pure helpers for the merge.
 */

type Json = Record<string, unknown>;

/** Keys whose value is a map from user-chosen names to specification objects. */
const NAME_MAPS = new Set([
  'paths',
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
  'headers',
  'content',
  'encoding',
  'links',
  'callbacks',
  'responses',
  'schemas',
  'parameters',
  'requestBodies',
  'securitySchemes',
  'pathItems',
  'variables',
  'webhooks',
]);

/** Keys whose value is data, not specification: never descended into. */
const OPAQUE = new Set(['example', 'default', 'const', 'enum', 'value', 'mapping']);

/** True for a plain JSON object. */
export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Removes every `x-` extension except those in `keep`, in place. `examples` is opaque inside a schema (an array of
 * values) and a map of Example objects elsewhere; both are left alone apart from the Example objects' own keys.
 */
export function stripExtensions(node: unknown, keep: ReadonlySet<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) stripExtensions(item, keep);
    return;
  }
  if (!isObject(node)) return;
  for (const key of Object.keys(node)) {
    const value = node[key];
    if (key.startsWith('x-') && !keep.has(key)) {
      delete node[key];
    } else if (OPAQUE.has(key) || key === 'examples') {
      // data: nothing inside is specification
    } else if (NAME_MAPS.has(key) && isObject(value)) {
      // `components.parameters` is a name map, an operation's `parameters` an array: both handled here.
      for (const child of Object.values(value)) stripExtensions(child, keep);
    } else {
      stripExtensions(value, keep);
    }
  }
}

/** Calls `visit` for every `$ref` string outside opaque data; the returned string (if any) replaces it. */
export function rewriteRefs(node: unknown, visit: (ref: string) => string | undefined): void {
  if (Array.isArray(node)) {
    for (const item of node) rewriteRefs(item, visit);
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if ((key === '$ref' || key === 'operationRef') && typeof value === 'string') {
      const next = visit(value);
      if (next !== undefined) node[key] = next;
    } else if (key === 'discriminator' && isObject(value) && isObject(value.mapping)) {
      for (const [k, target] of Object.entries(value.mapping)) {
        if (typeof target !== 'string') continue;
        // A mapping value is a reference, or a bare schema name that means `#/components/schemas/<name>`.
        const full = target.startsWith('#') || target.includes('/') ? target : `#/components/schemas/${target}`;
        const next = visit(full);
        if (next !== undefined) value.mapping[k] = next;
      }
    } else if (NAME_MAPS.has(key) && isObject(value)) {
      for (const child of Object.values(value)) rewriteRefs(child, visit);
    } else if (!OPAQUE.has(key) && key !== 'examples') {
      rewriteRefs(value, visit);
    } else if (key === 'examples' && isObject(value)) {
      // a map of Example objects may itself be a $ref
      for (const ex of Object.values(value)) if (isObject(ex) && typeof ex.$ref === 'string') rewriteRefs(ex, visit);
    }
  }
}

/** Every `$ref` target in a subtree. */
export function collectRefs(node: unknown): string[] {
  const refs: string[] = [];
  rewriteRefs(node, (ref) => {
    refs.push(ref);
    return undefined;
  });
  return refs;
}

/** Escapes a key for a JSON pointer. */
export function pointerEscape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Unescapes one JSON pointer segment. */
export function pointerUnescape(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** JSON with object keys sorted: equal values give equal strings (used to compare and hash). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortDeep(value));
}

/** A copy with object keys sorted recursively. */
export function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortDeep(value[k])]),
  );
}

/**
 * A canonical string of a specification object that ignores `x-` extensions wherever stripExtensions would remove
 * them (never a property that happens to be called `x-…`), without copying it: equal strings mean "the same apart
 * from extensions", which is what de-duplication asks.
 */
export function specFingerprint(node: unknown): string {
  if (Array.isArray(node)) return `[${node.map(specFingerprint).join(',')}]`;
  if (!isObject(node)) return JSON.stringify(node) ?? 'null';
  const parts: string[] = [];
  for (const key of Object.keys(node).sort()) {
    if (key.startsWith('x-')) continue;
    const value = node[key];
    let inner: string;
    if (OPAQUE.has(key) || key === 'examples') inner = canonicalJson(value);
    else if (NAME_MAPS.has(key) && isObject(value)) {
      inner = `{${Object.keys(value)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${specFingerprint(value[k])}`)
        .join(',')}}`;
    } else inner = specFingerprint(value);
    parts.push(`${JSON.stringify(key)}:${inner}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * A matcher for an OpenAPI path template (`/items/{id}`): each `{name}` matches one path segment, captured in order;
 * the rest matches literally.
 */
export function pathTemplatePattern(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path.replace(/\{([^}]+)\}|[^{]+/g, (part, name: string | undefined) => {
    if (name === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    names.push(name);
    return '([^/]+)';
  });
  return { pattern: new RegExp(`^${source}$`), names };
}
