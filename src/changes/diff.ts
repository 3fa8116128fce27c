/**
 * The diff engine: two OpenAPI documents (3.0 or 3.1, normalised to 3.1 first) compared operation by operation.
 * Paths match by template shape (`/items/{id}` and `/items/{itemId}` are the same path); parameters by location and
 * name; bodies and responses by media type and status, their schemas by schema-diff.ts. Every change names a rule of
 * the catalog (rules.ts) with its level and the JSON pointer of where it is. Pure.
 */
import { normalizeTo31 } from '../openapi/normalize-31.ts';
import { isObject, pointerEscape } from '../openapi/openapi-walk.ts';
import { type ApiChange, CHANGE_RULES, type RuleId, sortChanges } from './rules.ts';
import { type Direction, deref, diffSchemas, type SchemaDiffContext } from './schema-diff.ts';

type Json = Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Options of a comparison. */
export interface DiffOptions {
  /** "Now", for deciding whether a removed deprecated operation had reached its sunset (default: the clock). */
  readonly now?: Date;
  /**
   * Maps each path before matching (the migration view strips the version prefix, so `/m/versions/v1/infer` and
   * `/m/versions/v2/infer` are the same operation).
   */
  readonly oldPath?: (path: string) => string;
  readonly newPath?: (path: string) => string;
  /** Both documents are the gateway's own published ones, normalised already: no second normalisation (a copy each). */
  readonly normalized?: boolean;
}

/** Every change from `before` to `after`, breaking first. */
export function diffDocuments(before: Json, after: Json, options: DiffOptions = {}): ApiChange[] {
  const oldDoc = options.normalized ? before : normalizeTo31(before).document;
  const newDoc = options.normalized ? after : normalizeTo31(after).document;
  const out: ApiChange[] = [];
  const refsChecked = new Map<string, boolean>();
  const now = options.now ?? new Date();
  const oldPaths = indexPaths(oldDoc, options.oldPath);
  const newPaths = indexPaths(newDoc, options.newPath);
  const push = (rule: RuleId, pointer: string, message: string, operation?: string) =>
    out.push({ rule, level: CHANGE_RULES[rule].level, ...(operation ? { operation } : {}), message, pointer });

  for (const [shape, o] of oldPaths) {
    const n = newPaths.get(shape);
    if (!n) {
      const ops = METHODS.filter((m) => isObject(o.item[m]));
      // A path whose every operation was deprecated and is past its sunset may go; otherwise its removal breaks.
      const removals = ops.map((m) => removalRule(o.item[m] as Json, now));
      if (ops.length > 0 && removals.every((r) => r === 'deprecated-operation-removed'))
        for (const m of ops)
          push(
            'deprecated-operation-removed',
            pointerOf(o.path, m),
            'removed after its sunset',
            `${m.toUpperCase()} ${o.path}`,
          );
      else if (removals.includes('operation-removed-before-sunset'))
        for (const [i, m] of ops.entries())
          push(
            removals[i]!,
            pointerOf(o.path, m),
            removalMessage(removals[i]!, o.item[m] as Json),
            `${m.toUpperCase()} ${o.path}`,
          );
      else push('path-removed', `/paths/${pointerEscape(o.path)}`, `path ${o.path} removed`);
      continue;
    }
    for (const method of METHODS) {
      const oop = o.item[method];
      const nop = n.item[method];
      const operation = `${method.toUpperCase()} ${n.path}`;
      if (isObject(oop) && !isObject(nop)) {
        const rule = removalRule(oop, now);
        push(rule, pointerOf(o.path, method), removalMessage(rule, oop), `${method.toUpperCase()} ${o.path}`);
      } else if (!isObject(oop) && isObject(nop)) {
        push('operation-added', pointerOf(n.path, method), 'operation added', operation);
      } else if (isObject(oop) && isObject(nop)) {
        diffOperation(
          { oldDoc, newDoc, out, operation, seen: new Set(), refsChecked },
          { op: oop, shared: o.item.parameters, path: o.path },
          { op: nop, shared: n.item.parameters, path: n.path },
          pointerOf(n.path, method),
        );
      }
    }
  }
  for (const [shape, n] of newPaths)
    if (!oldPaths.has(shape)) push('path-added', `/paths/${pointerEscape(n.path)}`, `path ${n.path} added`);
  return sortChanges(out);
}

interface Side {
  readonly op: Json;
  readonly shared: unknown;
  readonly path: string;
}

interface OperationContext {
  readonly oldDoc: Json;
  readonly newDoc: Json;
  readonly out: ApiChange[];
  readonly operation: string;
  readonly seen: Set<string>;
  /** Shared by every operation of one comparison: which references reach unchanged targets. */
  readonly refsChecked: Map<string, boolean>;
}

function diffOperation(ctx: OperationContext, o: Side, n: Side, pointer: string): void {
  const push = (rule: RuleId, at: string, message: string) =>
    ctx.out.push({ rule, level: CHANGE_RULES[rule].level, operation: ctx.operation, message, pointer: at });
  const schemaContext = (direction: Direction): SchemaDiffContext => ({ ...ctx, direction });

  if (n.op.deprecated === true && o.op.deprecated !== true)
    push(
      'operation-deprecated',
      `${pointer}/deprecated`,
      `deprecated${n.op['x-sunset'] ? `, sunset ${String(n.op['x-sunset'])}` : ''}`,
    );

  // Parameters, keyed by location and name (header names are case-insensitive).
  const oldParams = parameters(ctx.oldDoc, o);
  const newParams = parameters(ctx.newDoc, n);
  for (const [key, p] of oldParams) {
    if (newParams.has(key)) continue;
    const moved = [...newParams.values()].find((q) => q.name.toLowerCase() === p.name.toLowerCase());
    if (moved)
      push('parameter-moved', `${pointer}/parameters/${moved.index}`, `${p.name} moved from ${p.in} to ${moved.in}`);
    else push('parameter-removed', `${pointer}/parameters`, `${p.in} parameter ${p.name} removed`);
  }
  for (const [key, p] of newParams) {
    const before = oldParams.get(key);
    const at = `${pointer}/parameters/${p.index}`;
    if (!before) {
      if ([...oldParams.values()].some((q) => q.name.toLowerCase() === p.name.toLowerCase())) continue; // moved
      push(
        p.required ? 'parameter-added-required' : 'parameter-added',
        at,
        `${p.required ? 'required' : 'optional'} ${p.in} parameter ${p.name} added`,
      );
      continue;
    }
    if (p.required && !before.required)
      push('parameter-became-required', at, `${p.in} parameter ${p.name} is now required`);
    if (before.schema !== undefined && p.schema !== undefined)
      diffSchemas(schemaContext('parameter'), before.schema, p.schema, `${at}/schema`);
  }

  // Request body.
  const ob = o.op.requestBody === undefined ? undefined : deref(ctx.oldDoc, o.op.requestBody).schema;
  const nb = n.op.requestBody === undefined ? undefined : deref(ctx.newDoc, n.op.requestBody).schema;
  if (!ob && nb?.required === true)
    push('request-body-added-required', `${pointer}/requestBody`, 'a request body is now required');
  if (ob && nb) {
    if (nb.required === true && ob.required !== true)
      push('request-body-became-required', `${pointer}/requestBody/required`, 'the request body is now required');
    const oc = content(ob);
    const nc = content(nb);
    for (const type of Object.keys(oc))
      if (!(type in nc))
        push('request-media-type-removed', `${pointer}/requestBody/content`, `${type} no longer accepted`);
    for (const type of Object.keys(nc)) {
      const at = `${pointer}/requestBody/content/${pointerEscape(type)}`;
      if (!(type in oc)) push('request-media-type-added', at, `${type} accepted`);
      else diffSchemas(schemaContext('request'), oc[type]?.schema, nc[type]?.schema, `${at}/schema`);
    }
  }

  // Responses, by status.
  const or = isObject(o.op.responses) ? o.op.responses : {};
  const nr = isObject(n.op.responses) ? n.op.responses : {};
  for (const status of Object.keys(or)) {
    if (status in nr) continue;
    const success = /^[123]/.test(status);
    push(
      success ? 'response-status-removed' : 'response-error-status-removed',
      `${pointer}/responses`,
      `status ${status} no longer answered`,
    );
  }
  for (const status of Object.keys(nr)) {
    const at = `${pointer}/responses/${pointerEscape(status)}`;
    if (!(status in or)) {
      push('response-status-added', at, `status ${status} documented`);
      continue;
    }
    const oc = content(deref(ctx.oldDoc, or[status]).schema);
    const nc = content(deref(ctx.newDoc, nr[status]).schema);
    for (const type of Object.keys(oc)) {
      if (!(type in nc)) {
        if (Object.keys(nc).length > 0 || /^2/.test(status))
          push('response-media-type-removed', `${at}/content`, `status ${status} no longer produces ${type}`);
        continue;
      }
      diffSchemas(
        schemaContext('response'),
        oc[type]?.schema,
        nc[type]?.schema,
        `${at}/content/${pointerEscape(type)}/schema`,
      );
    }
  }

  // Security: a requirement the old operation could be called without.
  const os = security(ctx.oldDoc, o.op);
  const ns = security(ctx.newDoc, n.op);
  const open = (reqs: Json[]) => reqs.length === 0 || reqs.some((r) => Object.keys(r).length === 0);
  const key = (r: Json) => Object.keys(r).sort().join('+');
  if (open(os) && !open(ns))
    push('security-requirement-added', `${pointer}/security`, `now requires ${ns.map(key).join(' or ')}`);
  else if (!open(os) && !open(ns)) {
    const before = new Set(os.map(key));
    const after = new Set(ns.map(key));
    if ([...before].some((k) => !after.has(k)))
      push(
        'security-requirement-added',
        `${pointer}/security`,
        `requires ${[...after].join(' or ')} (was ${[...before].join(' or ')})`,
      );
    else if ([...after].some((k) => !before.has(k)))
      push(
        'security-requirement-removed',
        `${pointer}/security`,
        `also accepts ${[...after].filter((k) => !before.has(k)).join(' or ')}`,
      );
  } else if (!open(os) && open(ns))
    push('security-requirement-removed', `${pointer}/security`, 'no credentials needed any more');
}

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required: boolean;
  readonly schema: unknown;
  readonly index: number;
}

function parameters(doc: Json, side: Side): Map<string, Parameter> {
  const out = new Map<string, Parameter>();
  const add = (list: unknown, own: boolean) => {
    if (!Array.isArray(list)) return;
    list.forEach((raw, index) => {
      const p = deref(doc, raw).schema;
      if (typeof p.name !== 'string' || typeof p.in !== 'string') return;
      const name = p.in === 'header' ? p.name.toLowerCase() : p.name;
      // Path parameters are positional: their names may change without consequence.
      const key = p.in === 'path' ? `path:${positionOf(side.path, p.name)}` : `${p.in}:${name}`;
      out.set(key, {
        name: p.name,
        in: p.in,
        required: p.required === true || p.in === 'path',
        schema: p.schema,
        index: own ? index : -1,
      });
    });
  };
  add(side.shared, false);
  add(side.op.parameters, true);
  return out;
}

function positionOf(path: string, name: string): number {
  const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  const i = names.indexOf(name);
  return i < 0 ? names.length : i;
}

function content(holder: Json): Record<string, Json> {
  const c = holder.content;
  if (!isObject(c)) return {};
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k.toLowerCase(), isObject(v) ? v : {}]));
}

function security(doc: Json, op: Json): Json[] {
  const s = op.security ?? doc.security;
  return Array.isArray(s) ? s.filter(isObject) : [];
}

function removalRule(op: Json, now: Date): RuleId {
  if (op.deprecated !== true) return 'operation-removed';
  const sunset = typeof op['x-sunset'] === 'string' ? Date.parse(op['x-sunset']) : Number.NaN;
  if (Number.isFinite(sunset) && sunset > now.getTime()) return 'operation-removed-before-sunset';
  return 'deprecated-operation-removed';
}

function removalMessage(rule: RuleId, op: Json): string {
  if (rule === 'operation-removed-before-sunset')
    return `removed before its announced sunset ${String(op['x-sunset'])}`;
  if (rule === 'deprecated-operation-removed') return 'deprecated operation removed';
  return 'operation removed';
}

function indexPaths(doc: Json, map?: (path: string) => string): Map<string, { path: string; item: Json }> {
  const out = new Map<string, { path: string; item: Json }>();
  const paths = isObject(doc.paths) ? doc.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    const mapped = map ? map(path) : path;
    out.set(mapped.replace(/\{[^}]+\}/g, '{}'), { path, item: deref(doc, item).schema });
  }
  return out;
}

function pointerOf(path: string, method: string): string {
  return `/paths/${pointerEscape(path)}/${method}`;
}
