/**
 * Compares two JSON Schemas (OpenAPI 3.1 dialect) the way a consumer feels the change. A request schema may only
 * grow what it accepts; a response schema may only shrink what it produces. `$ref`s are followed in each document
 * (a pair of references compared once: cycles end), `anyOf`/`oneOf` alternatives and type arrays compare as sets,
 * and V2 tensor lists compare tensor by tensor (name, datatype, fixed dimensions). Both documents are normalised to
 * 3.1 before they get here, so `nullable: true` and `type: [x, "null"]` are the same thing.
 */
import { resolvePointer } from '../openapi/normalize-31.ts';
import { canonicalJson, collectRefs, isObject, pointerEscape } from '../openapi/openapi-walk.ts';
import { type ApiChange, CHANGE_RULES, type RuleId } from './rules.ts';

type Json = Record<string, unknown>;

/** Where a schema is used decides which direction is compatible. */
export type Direction = 'request' | 'parameter' | 'response';

/** State of one comparison. */
export interface SchemaDiffContext {
  readonly oldDoc: Json;
  readonly newDoc: Json;
  readonly direction: Direction;
  readonly operation: string;
  readonly out: ApiChange[];
  /** Reference pairs already compared (cycle safety). */
  readonly seen: Set<string>;
  /** References whose reachable targets are unchanged (true) or not (false), as found so far. */
  refsChecked?: Map<string, boolean>;
}

const PARAMETER_RULES: Partial<Record<RuleId, RuleId>> = {
  'request-type-narrowed': 'parameter-type-narrowed',
  'request-enum-value-removed': 'parameter-enum-value-removed',
  'request-constraint-tightened': 'parameter-constraint-tightened',
};

function emit(ctx: SchemaDiffContext, rule: RuleId, pointer: string, message: string): void {
  const id = ctx.direction === 'parameter' ? (PARAMETER_RULES[rule] ?? rule) : rule;
  ctx.out.push({ rule: id, level: CHANGE_RULES[id].level, operation: ctx.operation, message, pointer });
}

/** Follows local `$ref`s; sibling keywords of a `$ref` (allowed in 3.1) are kept. */
export function deref(doc: Json, schema: unknown): { schema: Json; ref?: string } {
  let current: unknown = schema;
  let ref: string | undefined;
  for (let i = 0; i < 32 && isObject(current) && typeof current.$ref === 'string'; i++) {
    const target = current.$ref as string;
    if (!target.startsWith('#')) break;
    ref = target;
    const { $ref: _, ...siblings } = current;
    const resolved = resolvePointer(doc, target.slice(1));
    current = isObject(resolved) ? { ...resolved, ...siblings } : siblings;
  }
  return { schema: isObject(current) ? current : {}, ...(ref ? { ref } : {}) };
}

/** Compares the schema `oldSchema` of the old document with `newSchema` of the new one at `pointer`. */
/**
 * Whether two schemas are equal. Called at every level of the walk, so the cheap answers come first: the same object,
 * or the same JSON (documents from one generator keep their key order) — canonical (key-sorted) JSON, several times
 * dearer, only when those differ. With a 10 MB document this took the revision diff from seconds to a fraction.
 */
function sameSchema(ctx: SchemaDiffContext, o: unknown, n: unknown): boolean {
  // The same object in both documents — or the same text — is the same schema only if every `$ref` in it reaches
  // the same content in both: `{"$ref": "#/components/schemas/Flower"}` is equal text whatever Flower became.
  if (o === n) return ctx.oldDoc === ctx.newDoc || refsUnchanged(ctx, o);
  const a = JSON.stringify(o);
  const b = JSON.stringify(n);
  const equal = a === b || (a.length === b.length && canonicalJson(o) === canonicalJson(n));
  return equal && (!a.includes('"$ref"') || refsUnchanged(ctx, o));
}

/**
 * Whether every local `$ref` reachable from `schema` (transitively) has the same target text in both documents.
 * Memoised per comparison: a component shared by many operations is checked once.
 */
function refsUnchanged(ctx: SchemaDiffContext, schema: unknown): boolean {
  if (!ctx.refsChecked) ctx.refsChecked = new Map<string, boolean>();
  const known = ctx.refsChecked;
  const pending = collectRefs(schema);
  const visited = new Set<string>();
  while (pending.length > 0) {
    const ref = pending.pop()!;
    if (visited.has(ref) || !ref.startsWith('#')) continue;
    visited.add(ref);
    const memo = known.get(ref);
    if (memo === false) return false;
    if (memo === true) continue;
    const before = resolvePointer(ctx.oldDoc, ref.slice(1));
    const after = resolvePointer(ctx.newDoc, ref.slice(1));
    const text = JSON.stringify(before);
    if (text !== JSON.stringify(after)) {
      known.set(ref, false);
      return false;
    }
    if (text?.includes('"$ref"')) pending.push(...collectRefs(before));
  }
  // Every reachable target is unchanged (a cycle included): remember them all as such.
  for (const ref of visited) known.set(ref, true);
  return true;
}

export function diffSchemas(ctx: SchemaDiffContext, oldSchema: unknown, newSchema: unknown, pointer: string): void {
  const a = deref(ctx.oldDoc, oldSchema);
  const b = deref(ctx.newDoc, newSchema);
  if (a.ref !== undefined || b.ref !== undefined) {
    const key = `${ctx.direction}|${a.ref ?? pointer}|${b.ref ?? pointer}`;
    if (ctx.seen.has(key)) return;
    ctx.seen.add(key);
  }
  const o = a.schema;
  const n = b.schema;
  if (sameSchema(ctx, o, n)) return;

  const oldTensors = tensorsOf(ctx.oldDoc, o);
  const newTensors = tensorsOf(ctx.newDoc, n);
  if (oldTensors && newTensors) {
    diffTensors(ctx, oldTensors, newTensors, pointer);
    return;
  }

  const request = ctx.direction !== 'response';
  diffTypes(ctx, o, n, pointer, request);
  diffConst(ctx, o, n, pointer, request);
  diffEnum(ctx, o, n, pointer, request);
  if (request) diffConstraints(ctx, o, n, pointer);
  diffProperties(ctx, o, n, pointer, request);
  if (o.items !== undefined && n.items !== undefined && isObject(o.items) && isObject(n.items))
    diffSchemas(ctx, o.items, n.items, `${pointer}/items`);
  if (Array.isArray(o.prefixItems) && Array.isArray(n.prefixItems)) {
    const count = Math.min(o.prefixItems.length, n.prefixItems.length);
    for (let i = 0; i < count; i++) diffSchemas(ctx, o.prefixItems[i], n.prefixItems[i], `${pointer}/prefixItems/${i}`);
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) diffAlternatives(ctx, o, n, keyword, pointer, request);
  if (Array.isArray(o.allOf) && Array.isArray(n.allOf) && o.allOf.length === n.allOf.length)
    for (const [i, s] of o.allOf.entries()) diffSchemas(ctx, s, (n.allOf as unknown[])[i], `${pointer}/allOf/${i}`);
  if (isObject(o.additionalProperties) && isObject(n.additionalProperties))
    diffSchemas(ctx, o.additionalProperties, n.additionalProperties, `${pointer}/additionalProperties`);
}

function typesOf(s: Json): Set<string> | undefined {
  if (typeof s.type === 'string') return new Set([s.type]);
  if (Array.isArray(s.type)) return new Set(s.type.map(String));
  return undefined;
}

function covers(set: Set<string>, type: string): boolean {
  return set.has(type) || (type === 'integer' && set.has('number'));
}

function diffTypes(ctx: SchemaDiffContext, o: Json, n: Json, pointer: string, request: boolean): void {
  const ot = typesOf(o);
  const nt = typesOf(n);
  if (!ot || !nt) {
    // A type appearing where there was none narrows what a request may send; one disappearing widens a response.
    if (request && !ot && nt) emit(ctx, 'request-type-narrowed', pointer, `now restricted to ${[...nt].join(' | ')}`);
    else if (!request && ot && !nt) emit(ctx, 'response-type-changed', pointer, 'no longer restricted to a type');
    return;
  }
  const lost = [...ot].filter((t) => !covers(nt, t));
  const gained = [...nt].filter((t) => !covers(ot, t));
  if (request) {
    if (lost.length > 0)
      emit(ctx, 'request-type-narrowed', pointer, `no longer accepts ${lost.join(' | ')} (now ${[...nt].join(' | ')})`);
    else if (gained.length > 0) emit(ctx, 'request-type-widened', pointer, `also accepts ${gained.join(' | ')}`);
  } else if (gained.length > 0) {
    emit(ctx, 'response-type-changed', pointer, `may now be ${gained.join(' | ')} (was ${[...ot].join(' | ')})`);
  }
}

function diffConst(ctx: SchemaDiffContext, o: Json, n: Json, pointer: string, request: boolean): void {
  if (o.const === undefined || n.const === undefined) return;
  if (canonicalJson(o.const) === canonicalJson(n.const)) return;
  emit(
    ctx,
    request ? 'request-value-changed' : 'response-value-changed',
    pointer,
    `${JSON.stringify(o.const)} became ${JSON.stringify(n.const)}`,
  );
}

function diffEnum(ctx: SchemaDiffContext, o: Json, n: Json, pointer: string, request: boolean): void {
  if (!Array.isArray(o.enum) || !Array.isArray(n.enum)) return;
  const before = new Set(o.enum.map((v) => canonicalJson(v)));
  const after = new Set(n.enum.map((v) => canonicalJson(v)));
  const removed = [...before].filter((v) => !after.has(v));
  const added = [...after].filter((v) => !before.has(v));
  if (request) {
    if (removed.length > 0) emit(ctx, 'request-enum-value-removed', pointer, `no longer accepts ${removed.join(', ')}`);
    if (added.length > 0) emit(ctx, 'request-enum-value-added', pointer, `also accepts ${added.join(', ')}`);
  } else if (added.length > 0) {
    emit(ctx, 'response-enum-value-added', pointer, `may now be ${added.join(', ')}`);
  }
}

/** Lower bounds that may only go down, upper bounds that may only go up, for a request to stay valid. */
const LOWER = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'] as const;
const UPPER = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'] as const;

function diffConstraints(ctx: SchemaDiffContext, o: Json, n: Json, pointer: string): void {
  const tightened: string[] = [];
  for (const k of LOWER) {
    const before = o[k];
    const after = n[k];
    if (typeof after === 'number' && (typeof before !== 'number' || after > before))
      tightened.push(`${k} ${before ?? 'none'} → ${after}`);
  }
  for (const k of UPPER) {
    const before = o[k];
    const after = n[k];
    if (typeof after === 'number' && (typeof before !== 'number' || after < before))
      tightened.push(`${k} ${before ?? 'none'} → ${after}`);
  }
  if (typeof n.multipleOf === 'number' && n.multipleOf !== o.multipleOf)
    tightened.push(`multipleOf ${o.multipleOf ?? 'none'} → ${n.multipleOf}`);
  if (tightened.length > 0) emit(ctx, 'request-constraint-tightened', pointer, tightened.join('; '));
  if (typeof n.pattern === 'string' && n.pattern !== o.pattern)
    emit(
      ctx,
      'request-pattern-changed',
      `${pointer}/pattern`,
      `must match ${n.pattern}${o.pattern ? ` (was ${o.pattern})` : ''}`,
    );
}

function diffProperties(ctx: SchemaDiffContext, o: Json, n: Json, pointer: string, request: boolean): void {
  const op = isObject(o.properties) ? o.properties : {};
  const np = isObject(n.properties) ? n.properties : {};
  const oreq = new Set(Array.isArray(o.required) ? o.required.map(String) : []);
  const nreq = new Set(Array.isArray(n.required) ? n.required.map(String) : []);
  const at = (name: string) => `${pointer}/properties/${pointerEscape(name)}`;
  for (const name of Object.keys(op)) {
    if (name in np) continue;
    if (request) {
      const closed = n.additionalProperties === false || n.unevaluatedProperties === false;
      emit(
        ctx,
        closed ? 'request-property-removed' : 'request-property-removed-open',
        at(name),
        `property ${name} removed`,
      );
    } else {
      emit(ctx, 'response-property-removed', at(name), `property ${name} removed`);
    }
  }
  for (const name of Object.keys(np)) {
    if (!(name in op)) {
      if (request)
        emit(
          ctx,
          nreq.has(name) ? 'request-required-property-added' : 'request-property-added',
          at(name),
          `${nreq.has(name) ? 'required' : 'optional'} property ${name} added`,
        );
      else emit(ctx, 'response-property-added', at(name), `property ${name} added`);
      continue;
    }
    if (request && nreq.has(name) && !oreq.has(name))
      emit(ctx, 'request-property-became-required', at(name), `property ${name} is now required`);
    if (!request && oreq.has(name) && !nreq.has(name))
      emit(ctx, 'response-property-became-optional', at(name), `property ${name} may now be missing`);
    diffSchemas(ctx, op[name], np[name], at(name));
  }
  // Required properties the old schema did not declare at all (only listed in `required`).
  if (request)
    for (const name of nreq)
      if (!oreq.has(name) && !(name in np))
        emit(ctx, 'request-property-became-required', at(name), `property ${name} is now required`);
  if (request && o.additionalProperties !== false && n.additionalProperties === false && Object.keys(op).length > 0)
    emit(
      ctx,
      'request-additional-properties-forbidden',
      `${pointer}/additionalProperties`,
      'extra properties are now refused',
    );
}

function diffAlternatives(
  ctx: SchemaDiffContext,
  o: Json,
  n: Json,
  keyword: 'anyOf' | 'oneOf',
  pointer: string,
  request: boolean,
): void {
  const oa = Array.isArray(o[keyword]) ? (o[keyword] as unknown[]) : undefined;
  const na = Array.isArray(n[keyword]) ? (n[keyword] as unknown[]) : undefined;
  if (!oa || !na) return;
  const print = (doc: Json, s: unknown) => canonicalJson(expand(doc, s, 0));
  const before = oa.map((s) => print(ctx.oldDoc, s));
  const after = na.map((s) => print(ctx.newDoc, s));
  // The same alternatives in another order are the same schema.
  const unmatchedOld = oa.map((_, i) => i).filter((i) => !after.includes(before[i]!));
  const unmatchedNew = na.map((_, i) => i).filter((i) => !before.includes(after[i]!));
  if (unmatchedOld.length === 0 && unmatchedNew.length === 0) return;
  // Alternatives that changed in place (same title, or the only ones left) are compared in depth.
  const pairs: [number, number][] = [];
  for (const i of [...unmatchedOld]) {
    const title = deref(ctx.oldDoc, oa[i]).schema.title;
    const j = unmatchedNew.find((k) => title !== undefined && deref(ctx.newDoc, na[k]).schema.title === title);
    if (j !== undefined) pairs.push([i, j]);
  }
  if (pairs.length === 0 && unmatchedOld.length === 1 && unmatchedNew.length === 1)
    pairs.push([unmatchedOld[0]!, unmatchedNew[0]!]);
  for (const [i, j] of pairs) diffSchemas(ctx, oa[i], na[j], `${pointer}/${keyword}/${j}`);
  for (const i of unmatchedOld.filter((x) => !pairs.some(([p]) => p === x)))
    if (request)
      emit(ctx, 'request-alternative-removed', `${pointer}/${keyword}`, `alternative ${i + 1} of ${keyword} removed`);
  for (const j of unmatchedNew.filter((x) => !pairs.some(([, q]) => q === x)))
    emit(
      ctx,
      request ? 'request-alternative-added' : 'response-alternative-added',
      `${pointer}/${keyword}/${j}`,
      `new alternative in ${keyword}`,
    );
}

/** A schema with its references inlined (to a bounded depth), to compare alternatives by content. */
function expand(doc: Json, schema: unknown, depth: number): unknown {
  if (depth > 8) return schema;
  if (Array.isArray(schema)) return schema.map((s) => expand(doc, s, depth + 1));
  if (!isObject(schema)) return schema;
  const { schema: s } = deref(doc, schema);
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, expand(doc, v, depth + 1)]));
}

interface Tensor {
  readonly name: string;
  readonly datatype: string;
  /** Fixed dimensions as numbers, free ones as undefined; undefined when the shape is not described. */
  readonly dims?: readonly (number | undefined)[];
  readonly pointer: string;
}

/** The V2 tensors a schema describes (one tensor, or a oneOf of tensors), by name; undefined if it is not one. */
function tensorsOf(doc: Json, schema: Json): Map<string, Tensor> | undefined {
  const one = tensorOf(doc, schema, '');
  if (one) return new Map([[one.name, one]]);
  if (!Array.isArray(schema.oneOf) || schema.oneOf.length === 0) return undefined;
  const map = new Map<string, Tensor>();
  for (const [i, s] of schema.oneOf.entries()) {
    const t = tensorOf(doc, deref(doc, s).schema, `/oneOf/${i}`);
    if (!t) return undefined;
    map.set(t.name, t);
  }
  return map;
}

function tensorOf(doc: Json, schema: Json, pointer: string): Tensor | undefined {
  const props = isObject(schema.properties) ? schema.properties : undefined;
  if (!props) return undefined;
  const name = deref(doc, props.name).schema.const;
  const datatype = deref(doc, props.datatype).schema.const;
  if (typeof name !== 'string' || typeof datatype !== 'string') return undefined;
  const shape = deref(doc, props.shape).schema;
  const dims = Array.isArray(shape.prefixItems)
    ? shape.prefixItems.map((d) => {
        const c = deref(doc, d).schema.const;
        return typeof c === 'number' ? c : undefined;
      })
    : undefined;
  return { name, datatype, ...(dims ? { dims } : {}), pointer };
}

function diffTensors(ctx: SchemaDiffContext, before: Map<string, Tensor>, after: Map<string, Tensor>, pointer: string) {
  const request = ctx.direction !== 'response';
  const removed = [...before.keys()].filter((k) => !after.has(k));
  const added = [...after.keys()].filter((k) => !before.has(k));
  const pairs: [Tensor, Tensor][] = [...before.keys()]
    .filter((k) => after.has(k))
    .map((k) => [before.get(k)!, after.get(k)!]);
  if (before.size === 1 && after.size === 1 && removed.length === 1) {
    const [o] = before.values();
    const [n] = after.values();
    emit(ctx, 'v2-tensor-renamed', `${pointer}${n!.pointer}/properties/name`, `tensor ${o!.name} is now ${n!.name}`);
    pairs.push([o!, n!]);
  } else {
    for (const name of removed)
      emit(ctx, 'v2-tensor-removed', `${pointer}${before.get(name)!.pointer}`, `tensor ${name} removed`);
    for (const name of added)
      emit(
        ctx,
        request ? 'v2-tensor-added' : 'v2-output-added',
        `${pointer}${after.get(name)!.pointer}`,
        `tensor ${name} added`,
      );
  }
  for (const [o, n] of pairs) {
    const at = `${pointer}${n.pointer}/properties`;
    if (o.datatype !== n.datatype)
      emit(ctx, 'v2-tensor-datatype-changed', `${at}/datatype`, `tensor ${n.name}: ${o.datatype} became ${n.datatype}`);
    if (!o.dims || !n.dims) continue;
    const show = (d: readonly (number | undefined)[]) => `[${d.map((x) => x ?? -1).join(', ')}]`;
    if (o.dims.length !== n.dims.length) {
      emit(
        ctx,
        'v2-tensor-rank-changed',
        `${at}/shape`,
        `tensor ${n.name}: shape ${show(o.dims)} became ${show(n.dims)}`,
      );
      continue;
    }
    const changed = o.dims.some((d, i) => n.dims![i] !== undefined && n.dims![i] !== d);
    const relaxed = o.dims.some((d, i) => d !== undefined && n.dims![i] === undefined);
    if (changed || (!request && relaxed))
      emit(
        ctx,
        'v2-tensor-shape-changed',
        `${at}/shape`,
        `tensor ${n.name}: shape ${show(o.dims)} became ${show(n.dims)}`,
      );
    else if (relaxed)
      emit(
        ctx,
        'v2-tensor-shape-relaxed',
        `${at}/shape`,
        `tensor ${n.name}: shape ${show(o.dims)} became ${show(n.dims)}`,
      );
  }
}
