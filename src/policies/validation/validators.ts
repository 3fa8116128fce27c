/**
 * Request validation against the published document: the very schema consumers read in /docs is the one requests
 * are checked with (one schema source). Per version document, operations are indexed by method and path template
 * and their schemas compiled with Ajv (JSON Schema 2020-12, as OpenAPI 3.1 uses) on first use, then reused for the
 * life of the snapshot. What JSON Schema cannot say about V2 tensors — that the data holds as many elements as the
 * shape says, that input names are unique — is checked here too.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { pathTemplatePattern, pointerEscape } from '../../openapi/openapi-walk.ts';
import type { BodyRules, BodyViolation, ProtocolDefinition } from '../../protocols/protocol.ts';
import { PROTOCOLS } from '../../protocols/table.ts';
import type { DocsPlane, PublishedApi } from '../../snapshot/types.ts';

type Json = Record<string, unknown>;

/** One problem found in a request. */
export type Violation = BodyViolation;

/** The request as validation sees it. */
export interface RequestToValidate {
  readonly method: string;
  /** Public path, as the client sent it. */
  readonly path: string;
  readonly query: string;
  readonly header: (name: string) => string | undefined;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required: boolean;
  /** The schema's `type`, to read the text of a parameter as a number or boolean when it wants one. */
  readonly type?: unknown;
  readonly check?: ValidateFunction;
}

interface Operation {
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly parameters: readonly Parameter[];
  readonly body?: { required: boolean; types: readonly string[]; check?: ValidateFunction };
  /** What the protocol checks beyond the schema (V2: element counts against shapes). */
  readonly bodyRules: BodyRules | undefined;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const MAX_VIOLATIONS = 50;

/** The validators of one snapshot's documents, built on first use. */
export class RequestValidators {
  readonly #plane: DocsPlane;
  readonly #byVersion = new Map<string, Map<string, Operation[]>>();

  constructor(plane: DocsPlane) {
    this.#plane = plane;
  }

  /**
   * Violations of `request` against the document of `version` of the API `ref`; empty when it conforms or when the
   * document does not describe the operation (nothing to hold it to).
   */
  validate(ref: string, version: string, request: RequestToValidate): Violation[] {
    const api = this.#plane.apis.find((a) => a.ref === ref);
    if (!api) return [];
    const operations = this.#operations(api, version);
    if (!operations) return [];
    const versionBase = `${api.pathPrefix}/versions/${version}`;
    // The unversioned path and the versioned one are the same operation of the version that serves the request.
    const rest = request.path.startsWith(`${versionBase}/`)
      ? request.path.slice(versionBase.length)
      : request.path.slice(api.pathPrefix.length);
    const candidates = operations.get(request.method.toLowerCase()) ?? [];
    const documentPath = versionBase + rest;
    for (const op of candidates) {
      const m = op.pattern.exec(documentPath);
      if (m) return checkOperation(op, m, request);
    }
    return [];
  }

  #operations(api: PublishedApi, version: string): Map<string, Operation[]> | undefined {
    const key = `${api.ref}\0${version}`;
    const cached = this.#byVersion.get(key);
    if (cached) return cached;
    const v = api.versions.find((x) => x.name === version);
    if (!v) return undefined;
    const built = indexOperations(v.part.document, PROTOCOLS[api.protocol]);
    this.#byVersion.set(key, built);
    return built;
  }
}

function indexOperations(document: Json, protocol: ProtocolDefinition): Map<string, Operation[]> {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  // The whole document is one schema resource, so `#/components/schemas/…` references resolve as they do in /docs.
  ajv.addSchema(document, 'doc');
  const compile = (pointer: string): ValidateFunction | undefined => {
    try {
      return ajv.compile({ $ref: `doc#${pointer.split('/').map(encodeURIComponent).join('/')}` });
    } catch {
      return undefined; // a schema Ajv cannot compile is documented but not enforced
    }
  };
  const byMethod = new Map<string, Operation[]>();
  const paths = (document.paths ?? {}) as Record<string, Json>;
  // Literal paths before templated ones, as routers (and OpenAPI) prefer the most specific.
  const ordered = Object.keys(paths).sort((a, b) => templateCount(a) - templateCount(b));
  for (const path of ordered) {
    const item = paths[path]!;
    const shared = Array.isArray(item.parameters) ? (item.parameters as Json[]) : [];
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const opPointer = `/paths/${pointerEscape(path)}/${method}`;
      const { pattern, names } = pathTemplatePattern(path);
      const own = Array.isArray(op.parameters) ? (op.parameters as Json[]) : [];
      const parameters = [
        ...shared.map((p, i) => ({ p, pointer: `/paths/${pointerEscape(path)}/parameters/${i}` })),
        ...own.map((p, i) => ({ p, pointer: `${opPointer}/parameters/${i}` })),
      ]
        .map(({ p, pointer }) => resolveLocal(document, p, pointer))
        .filter((x): x is { value: Json; pointer: string } => x !== undefined && typeof x.value.name === 'string')
        .map(({ value, pointer }): Parameter => {
          const schema = value.schema === undefined ? undefined : resolveLocal(document, value.schema as Json, '');
          const check = value.schema === undefined ? undefined : compile(`${pointer}/schema`);
          return {
            name: value.name as string,
            in: String(value.in),
            required: value.required === true || value.in === 'path',
            ...(schema?.value.type !== undefined ? { type: schema.value.type } : {}),
            ...(check ? { check } : {}),
          };
        });
      const rb = op.requestBody
        ? resolveLocal(document, op.requestBody as Json, `${opPointer}/requestBody`)
        : undefined;
      let body: Operation['body'];
      if (rb) {
        const content = (rb.value.content ?? {}) as Record<string, Json>;
        const jsonType = Object.keys(content).find(isJsonType);
        const check =
          jsonType && content[jsonType]?.schema !== undefined
            ? compile(`${rb.pointer}/content/${pointerEscape(jsonType)}/schema`)
            : undefined;
        body = { required: rb.value.required === true, types: Object.keys(content), ...(check ? { check } : {}) };
      }
      const list = byMethod.get(method) ?? [];
      list.push({
        pattern,
        names,
        parameters,
        ...(body ? { body } : {}),
        bodyRules: protocol.bodyRules?.(method, path),
      });
      byMethod.set(method, list);
    }
  }
  return byMethod;
}

function checkOperation(op: Operation, match: RegExpExecArray, request: RequestToValidate): Violation[] {
  const out: Violation[] = [];
  const query = new URLSearchParams(request.query);
  for (const p of op.parameters) {
    let raw: string | undefined;
    if (p.in === 'path') raw = safeDecode(match[op.names.indexOf(p.name) + 1] ?? '');
    else if (p.in === 'query') raw = query.get(p.name) ?? undefined;
    else if (p.in === 'header') raw = request.header(p.name.toLowerCase());
    else continue; // cookies are the client's business
    if (raw === undefined) {
      if (p.required) out.push({ pointer: `${p.in}:${p.name}`, message: `required ${p.in} parameter is missing` });
      continue;
    }
    if (p.check && !p.check(coerce(raw, p.type))) {
      for (const e of p.check.errors ?? []) out.push({ pointer: `${p.in}:${p.name}`, message: describe(e) });
    }
  }
  const body = op.body;
  if (body) {
    const type = request.contentType?.split(';')[0]?.trim().toLowerCase();
    if (request.body.length === 0) {
      if (body.required) out.push({ pointer: '', message: 'a request body is required' });
    } else if (type !== undefined && body.types.length > 0 && !body.types.some((t) => mediaMatches(t, type))) {
      out.push({ pointer: '', message: `media type ${type} is not accepted; use ${body.types.join(' or ')}` });
    } else if (body.check && (type === undefined || isJsonType(type))) {
      let value: unknown;
      try {
        value = JSON.parse(request.body.toString('utf8'));
      } catch (err) {
        out.push({ pointer: '', message: `the body is not valid JSON (${(err as Error).message})` });
        return out;
      }
      if (!body.check(value)) for (const e of body.check.errors ?? []) out.push(violationOf(e));
      if (op.bodyRules) out.push(...op.bodyRules(value));
    }
  }
  return out.slice(0, MAX_VIOLATIONS);
}

function violationOf(e: ErrorObject): Violation {
  const params = e.params as { additionalProperty?: string; missingProperty?: string };
  const extra = params.additionalProperty ?? params.missingProperty;
  return { pointer: extra ? `${e.instancePath}/${pointerEscape(extra)}` : e.instancePath, message: describe(e) };
}

function describe(e: ErrorObject): string {
  const params = e.params as { allowedValues?: unknown[]; allowedValue?: unknown; additionalProperty?: string };
  if (e.keyword === 'const') return `must be ${JSON.stringify(params.allowedValue)}`;
  if (params.allowedValues)
    return `${e.message ?? 'invalid'}: ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  if (params.additionalProperty) return `unknown property ${JSON.stringify(params.additionalProperty)}`;
  return e.message ?? `fails ${e.keyword}`;
}

/** Parameters arrive as text: read numbers and booleans as the schema wants them. */
function coerce(raw: string, type: unknown): unknown {
  const wants = (t: string) => type === t || (Array.isArray(type) && type.includes(t));
  if ((wants('integer') || wants('number')) && raw.trim() !== '' && !Number.isNaN(Number(raw))) return Number(raw);
  if (wants('boolean') && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

function resolveLocal(document: Json, value: Json, pointer: string): { value: Json; pointer: string } | undefined {
  let current: Json | undefined = value;
  let at = pointer;
  for (let i = 0; i < 10 && typeof current?.$ref === 'string'; i++) {
    const ref = current.$ref as string;
    if (!ref.startsWith('#/')) return undefined;
    at = ref.slice(1);
    current = ref
      .slice(2)
      .split('/')
      .reduce<Json | undefined>(
        (node, seg) => node?.[seg.replace(/~1/g, '/').replace(/~0/g, '~')] as Json | undefined,
        document,
      );
  }
  return current ? { value: current, pointer: at } : undefined;
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

function mediaMatches(declared: string, actual: string): boolean {
  const d = declared.toLowerCase();
  if (d === '*/*' || d === actual) return true;
  return d.endsWith('/*') && actual.startsWith(d.slice(0, -1));
}

function templateCount(path: string): number {
  return (path.match(/\{/g) ?? []).length;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
