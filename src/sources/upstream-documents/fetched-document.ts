/**
 * What is done to a document fetched from an upstream before the docs pass may use it: parse it (JSON or YAML), check
 * that it is what was asked for (an OpenAPI document, a metadata answer — not an HTML error page, `null` or `[]`),
 * bound its nesting, convert Swagger 2.0 and normalise to OpenAPI 3.1. Pure and synchronous apart from the Swagger
 * converter; it runs in the document worker (document-worker.ts), off the event loop that serves traffic.
 */
import { parse as parseYaml } from 'yaml';
import { normalizeTo31 } from '../../openapi/normalize-31.ts';
import { convertSwagger2 } from '../../openapi/swagger2.ts';

/** How deep a fetched document may nest (OpenAPI schemas stay far below; a deeper one is broken or hostile). */
export const MAX_DOCUMENT_DEPTH = 256;

/** One job. */
export type DocumentJob =
  | {
      readonly op: 'fetched';
      readonly kind: 'openapi' | 'v2-metadata' | 'v2-config' | 'mlrun-metadata' | 'openai-models';
      /** The body as received (its memory is moved to the worker, not copied). */
      readonly bytes: Uint8Array;
      readonly contentType: string;
    }
  | { readonly op: 'convert'; readonly document: Record<string, unknown> };

/** A job's outcome. */
export type DocumentOutcome =
  | {
      readonly ok: true;
      readonly body: unknown;
      /** `openapi`/`swagger` of the original, for OpenAPI documents. */
      readonly originalVersion?: string;
      /** Set for OpenAPI documents: normalised to 3.1 already (the compiler uses it as it is). */
      readonly normalized?: boolean;
      /** What normalising found wrong (dangling references…): the document is then unusable. */
      readonly normalizeErrors?: readonly string[];
    }
  | { readonly ok: false; readonly error: string };

export async function processDocument(job: DocumentJob): Promise<DocumentOutcome> {
  if (job.op === 'convert') {
    const converted = await convertSwagger2(job.document);
    return { ok: true, body: converted };
  }
  const text = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength).toString('utf8');
  if (/^\s*</.test(text))
    return {
      ok: false,
      error: `not ${job.kind === 'openapi' ? 'an OpenAPI document' : 'a metadata answer'} but an HTML or XML page`,
    };
  let body: unknown;
  try {
    body = parseBody(text, job.contentType);
  } catch (err) {
    return { ok: false, error: `not JSON or YAML (${firstLine((err as Error).message)})` };
  }
  const deep = depthBeyond(body, MAX_DOCUMENT_DEPTH);
  if (deep) return { ok: false, error: `nested deeper than ${MAX_DOCUMENT_DEPTH} levels (at ${deep})` };
  if (job.kind !== 'openapi') {
    if (typeof body !== 'object' || body === null)
      return { ok: false, error: `not a metadata answer but ${describe(body)}` };
    return { ok: true, body };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, error: `not an OpenAPI document but ${describe(body)}` };
  let doc = body as Record<string, unknown>;
  const originalVersion =
    typeof doc.openapi === 'string' ? doc.openapi : typeof doc.swagger === 'string' ? doc.swagger : undefined;
  if (originalVersion === undefined)
    return { ok: false, error: 'not an OpenAPI document: no `openapi` or `swagger` version' };
  if (doc.swagger !== undefined) {
    if (doc.swagger !== '2.0')
      return { ok: false, error: `unsupported Swagger version ${JSON.stringify(doc.swagger)}` };
    doc = await convertSwagger2(doc);
  }
  const normalized = normalizeTo31(doc);
  return {
    ok: true,
    body: normalized.document,
    originalVersion,
    normalized: true,
    ...(normalized.errors.length > 0 ? { normalizeErrors: normalized.errors } : {}),
  };
}

function parseBody(text: string, contentType: string): unknown {
  if (contentType.includes('json') || /^\s*[[{]/.test(text)) return JSON.parse(text);
  return parseYaml(text, { maxAliasCount: 100 });
}

/** The path of the first value nested deeper than `max`, iteratively (no recursion to overflow). */
export function depthBeyond(value: unknown, max: number): string | undefined {
  const stack: [unknown, number, string][] = [[value, 0, '']];
  while (stack.length > 0) {
    const [v, depth, path] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return path.split('/').slice(0, 6).join('/') || '/';
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push([v[i], depth + 1, `${path}/${i}`]);
    } else for (const k in v) stack.push([(v as Record<string, unknown>)[k], depth + 1, `${path}/${k}`]);
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return /^\s*</.test(value) ? 'an HTML or XML page' : 'a string';
  return `a ${typeof value}`;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
