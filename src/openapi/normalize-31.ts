/**
 * Normalises an OpenAPI 3.0 document to 3.1 (and repairs what real model servers publish), per docs/protocols.md:
 * `nullable` → type arrays, boolean `exclusiveMinimum/Maximum` → numeric, `example` → `examples` in schemas,
 * `format: binary|base64` → `contentMediaType`/`contentEncoding`, Pydantic `$defs` and `definitions` hoisted into
 * `components/schemas`, invalid `type: bytes` and the non-standard `components/enums` (MLServer) repaired, duplicate
 * operationIds (TorchServe) made unique, TorchServe's paths that its router does not answer repaired
 * (publishers/torchserve.ts), BentoML's `file`/`tensor`/`dataframe` schema types given their valid spelling
 * (publishers/bentoml.ts), an array
 * schema without `items` given the equivalent `items: {}` (MLServer; Spectral reads the absence as an error),
 * defaults and examples that break their own schema repaired or dropped (repair-examples.ts), and dangling `$ref`s
 * reported. Pure: returns a
 * new document and the problems found; the input is not modified.
 */

import { repairBentoMLType } from './publishers/bentoml.ts';
import { repairTorchServeDocument } from './publishers/torchserve.ts';
import { repairExamples } from './repair-examples.ts';
import { walkDocument } from './schema-walk.ts';

type Json = Record<string, unknown>;

/** The result of normalising one document. */
export interface NormalizeResult {
  readonly document: Json;
  /** Problems that make the document unusable as is (e.g. dangling references), as JSON pointers + messages. */
  readonly errors: readonly string[];
}

/** Normalises a 3.0.x or 3.1.x document to 3.1.0. */
export function normalizeTo31(input: Json): NormalizeResult {
  const doc = structuredClone(input);
  const version = String(doc.openapi ?? '');
  if (!/^3\.[01]\./.test(version))
    return { document: doc, errors: [`unsupported OpenAPI version ${JSON.stringify(version || doc.swagger)}`] };
  const hoisted: Record<string, Json> = {};
  moveNonStandardComponents(doc, hoisted);
  repairTorchServeDocument(doc);
  uniqueOperationIds(doc);
  walkDocument(doc, (schema, pointer) => convertSchema(schema, hoisted, pointer));
  const components = (isObject(doc.components) ? doc.components : {}) as Json;
  const schemas = (isObject(components.schemas) ? components.schemas : {}) as Json;
  components.schemas = schemas;
  doc.components = components;
  for (const [name, schema] of Object.entries(hoisted)) if (!(name in schemas)) schemas[name] = schema;
  if (Object.keys(schemas).length === 0) delete components.schemas;
  if (Object.keys(components).length === 0) delete doc.components;
  doc.openapi = '3.1.0';
  const errors = danglingRefs(doc);
  if (errors.length === 0) repairExamples(doc);
  return { document: doc, errors };
}

const STANDARD_COMPONENTS = new Set([
  'schemas',
  'responses',
  'parameters',
  'examples',
  'requestBodies',
  'headers',
  'securitySchemes',
  'links',
  'callbacks',
  'pathItems',
]);

/** Schemas kept under made-up component sections (MLServer's `components/enums`) move to `components/schemas`. */
function moveNonStandardComponents(doc: Json, hoisted: Record<string, Json>): void {
  const components = doc.components;
  if (!isObject(components)) return;
  const moved: string[] = [];
  for (const [section, entries] of Object.entries(components)) {
    if (STANDARD_COMPONENTS.has(section) || section.startsWith('x-') || !isObject(entries)) continue;
    for (const [name, schema] of Object.entries(entries)) if (isObject(schema)) hoisted[name] ??= schema;
    delete components[section];
    moved.push(section);
  }
  if (moved.length === 0) return;
  const pattern = new RegExp(`^#/components/(?:${moved.map((m) => m.replace(/[^\w-]/g, '')).join('|')})/`);
  const rewrite = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(rewrite);
    else if (isObject(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string') node.$ref = v.replace(pattern, '#/components/schemas/');
        else rewrite(v);
      }
    }
  };
  rewrite(doc);
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Repeated operationIds get `_2`, `_3`… in document order, so each operation stays addressable. */
function uniqueOperationIds(doc: Json): void {
  const seen = new Map<string, number>();
  for (const item of Object.values(isObject(doc.paths) ? doc.paths : {})) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op) || typeof op.operationId !== 'string') continue;
      const count = (seen.get(op.operationId) ?? 0) + 1;
      seen.set(op.operationId, count);
      if (count > 1) op.operationId = `${op.operationId}_${count}`;
    }
  }
}

function convertSchema(schema: Json, hoisted: Record<string, Json>, _pointer: string): void {
  if (schema.type === 'bytes') schema.type = 'string';
  repairBentoMLType(schema);
  if (schema.nullable === true) {
    if (typeof schema.type === 'string') schema.type = [schema.type, 'null'];
    else if (Array.isArray(schema.type) && !schema.type.includes('null')) schema.type = [...schema.type, 'null'];
    else if (schema.type === undefined && (schema.allOf || schema.oneOf || schema.anyOf || schema.$ref)) {
      // `nullable` next to a composition: the 3.1 spelling is an anyOf with null.
      const { nullable: _n, ...rest } = schema;
      for (const k of Object.keys(schema)) delete schema[k];
      Object.assign(schema, { anyOf: [rest, { type: 'null' }] });
    }
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...schema.enum, null];
  }
  delete schema.nullable;
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (schema[flag] === true && typeof schema[bound] === 'number') {
      schema[flag] = schema[bound];
      delete schema[bound];
    } else if (schema[flag] === false) delete schema[flag];
  }
  if ('example' in schema) {
    if (!Array.isArray(schema.examples)) schema.examples = [schema.example];
    delete schema.example;
  }
  const isArray = schema.type === 'array' || (Array.isArray(schema.type) && schema.type.includes('array'));
  if (isArray && schema.items === undefined && schema.prefixItems === undefined) schema.items = {};
  if (schema.type === 'string' && schema.format === 'binary') {
    schema.contentMediaType = (schema['x-bentoml-media-type'] as string | undefined) ?? 'application/octet-stream';
    delete schema['x-bentoml-media-type'];
    delete schema.format;
  } else if (schema.type === 'string' && schema.format === 'base64') {
    schema.contentEncoding = 'base64';
    delete schema.format;
  }
  for (const key of ['$defs', 'definitions'] as const) {
    if (!isObject(schema[key])) continue;
    for (const [name, def] of Object.entries(schema[key])) hoisted[name] ??= def as Json;
    delete schema[key];
  }
  if (typeof schema.$ref === 'string') {
    schema.$ref = schema.$ref
      .replace(/^#\/(?:\$defs|definitions)\//, '#/components/schemas/')
      .replace(/^#\/components\/schemas\/.*\/\$defs\//, '#/components/schemas/');
  }
}

function danglingRefs(doc: Json): string[] {
  const errors: string[] = [];
  const visit = (node: unknown, pointer: string): void => {
    if (Array.isArray(node)) {
      for (const [i, n] of node.entries()) visit(n, `${pointer}/${i}`);
    } else if (isObject(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string') {
          if (v.startsWith('#') && resolvePointer(doc, v.slice(1)) === undefined)
            errors.push(`${pointer}: dangling $ref ${v}`);
        } else if (k !== 'example' && k !== 'examples') visit(v, `${pointer}/${esc(k)}`);
      }
    }
  };
  visit(doc, '');
  return errors;
}

/** Resolves a JSON pointer (`/components/schemas/X`) in a document. */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let node: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Json)[key];
    if (node === undefined) return undefined;
  }
  return node;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function esc(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
