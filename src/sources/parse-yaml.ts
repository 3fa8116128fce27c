/**
 * Reads Kubernetes-shaped objects from YAML/JSON text, keeping enough position information to point a person at the
 * exact line, column and field of every problem.
 */
import { CORE_SCHEMA, load as loadFast } from 'js-yaml';
import { type Document, isMap, isSeq, LineCounter, type Node, parseAllDocuments, visit } from 'yaml';
import { exact } from '../resources/compact.ts';
import { type Diagnostic, pointerToFieldPath } from '../resources/diagnostics.ts';
import type { SourceLocation } from '../resources/types.ts';
import { findKind } from '../schema/kinds.ts';
import { validateResource } from '../schema/validate.ts';

/** An object read from a file together with where it came from. */
export interface LocatedObject {
  readonly object: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<
    string,
    unknown
  >;
  readonly location: SourceLocation;
}

/** What one file (or one document of it) parses to. */
export interface ParsedObjects {
  objects: LocatedObject[];
  diagnostics: Diagnostic[];
}

/**
 * A parsed document as placed at its last position in a file (the line its text starts after): a reload that moved
 * nothing hands back the very same located objects instead of new ones for every document; a moved one is shifted.
 */
interface CachedDocument {
  readonly file: string;
  readonly lineOffset: number;
  readonly result: ParsedObjects;
}

/** Parsed documents by their exact text, bounded. */
const documentCache = new Map<string, CachedDocument>();
const DOCUMENT_CACHE_LIMIT = 50_000;
/** For each cached text: the directory whose reading last used it, and in which pass. */
const lastUse = new Map<string, { readonly root: string; readonly pass: number }>();
let passes = 0;

/** One reading of a whole directory: the texts it uses stay cached, the others of the same directory are dropped. */
export interface ParsePass {
  readonly root: string;
  readonly pass: number;
}

/** How many parsed documents are cached (tests). */
export function parseCacheSize(): number {
  return documentCache.size;
}

export function beginParsePass(root: string): ParsePass {
  return { root, pass: ++passes };
}

/**
 * Forgets the parsed documents of `pass.root` that the pass did not use: a configuration that shrank gives its
 * memory back (without this the cache kept every document ever read, up to its bound).
 */
export function endParsePass(pass: ParsePass): void {
  for (const [text, use] of lastUse) {
    if (use.root === pass.root && use.pass !== pass.pass) {
      lastUse.delete(text);
      documentCache.delete(text);
    }
  }
}
const DOCUMENT_START = /^---(?=[ \t\r]|$)/m;

/**
 * Parses every document of one file, validates known kinds, and reports problems with positions.
 *
 * A reload rereads every file, and YAML parsing is most of its cost: documents are therefore parsed one by one and
 * remembered by their exact text, so a file of ten thousand objects where one changed costs one parse, not ten
 * thousand. Files using directives (`%YAML`) or explicit document ends (`...`) are parsed whole.
 */
export function parseObjects(file: string, text: string, pass?: ParsePass): ParsedObjects {
  if (/^(%|\.\.\.)/m.test(text) || !DOCUMENT_START.test(text)) return parseText(file, text);
  const result: ParsedObjects = { objects: [], diagnostics: [] };
  let lineOffset = 0;
  for (const chunk of splitDocuments(text)) {
    let cached = documentCache.get(chunk);
    if (!cached) {
      // The chunk is a slice of the whole file's text: as the cache key, and through the parsed strings sliced from
      // it, it would keep every reload's file text alive. The document is parsed from a copy of its own instead.
      const own = Buffer.from(chunk).toString();
      const fresh = parseText('', own);
      cached = {
        file: '',
        lineOffset: 0,
        result: { objects: exact(fresh.objects), diagnostics: exact(fresh.diagnostics) },
      };
      if (documentCache.size >= DOCUMENT_CACHE_LIMIT) {
        documentCache.clear();
        lastUse.clear();
      }
      documentCache.set(own, cached);
    }
    if (pass) lastUse.set(chunk, pass);
    if (cached.file !== file || cached.lineOffset !== lineOffset) {
      cached = moved(cached, file, lineOffset);
      documentCache.set(chunk, cached);
    }
    for (const o of cached.result.objects) result.objects.push(o);
    for (const d of cached.result.diagnostics) result.diagnostics.push(d);
    lineOffset += countLines(chunk);
  }
  return result;
}

/** The cached document placed at another position (same objects, locations shifted). */
function moved(cached: CachedDocument, file: string, lineOffset: number): CachedDocument {
  const shift = lineOffset - cached.lineOffset;
  const move = (loc: SourceLocation): SourceLocation => ({ file, line: loc.line + shift, column: loc.column });
  return {
    file,
    lineOffset,
    result: {
      objects: cached.result.objects.map((o) => ({ object: o.object, location: move(o.location) })),
      diagnostics: cached.result.diagnostics.map((d) => ({
        ...d,
        ...(d.location ? { location: move(d.location) } : {}),
      })),
    },
  };
}

/** Splits at `---` lines; each piece keeps its marker line, so positions inside it stay those of the file. */
export function splitDocuments(text: string): string[] {
  const chunks: string[] = [];
  let start = 0;
  const marker = /^---(?=[ \t\r]|$)/gm;
  for (let m = marker.exec(text); m !== null; m = marker.exec(text)) {
    if (m.index > start) chunks.push(text.slice(start, m.index));
    start = m.index;
  }
  chunks.push(text.slice(start));
  return chunks.filter((c) => c.length > 0);
}

function countLines(chunk: string): number {
  let n = 0;
  for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * A document larger than this is refused unparsed: parsing costs several times a document's size in memory, and no
 * configuration needs it (Kubernetes keeps no object over 1.5 MiB; a `List` of many objects stays well below).
 */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

function parseText(file: string, text: string): ParsedObjects {
  if (text.length > MAX_DOCUMENT_BYTES) {
    return {
      objects: [],
      diagnostics: [
        {
          severity: 'error',
          message: `YAML: a document of ${text.length} characters, more than the ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB one document may have`,
          field: '',
          location: { file, line: 1, column: 1 },
        },
      ],
    };
  }
  return fastParse(file, text) ?? locatedParse(file, text);
}

/**
 * The fast path: js-yaml (about ten times faster than the located parser, which a 10 MB configuration otherwise
 * spends seconds in) for a document that needs no position because nothing is wrong with it. It is taken only when
 * the result is beyond doubt — one document, a mapping of a known kind that validates, no aliases (no object reached
 * twice), no merge key, not too deep — and its location is where the mapping starts, as the located parser puts it.
 * Anything else (an error to locate, a List, several documents, an anchor) goes to the located parser, which decides.
 * test/sources/parse-yaml-fast.test.ts holds both to the same results.
 */
export function fastParse(file: string, text: string): ParsedObjects | undefined {
  // Anchors and aliases (even of scalars, which the located parser counts against its alias bound) are its to judge.
  if (ANCHOR_OR_ALIAS.test(text)) return undefined;
  let value: unknown;
  try {
    value = loadFast(text, { schema: CORE_SCHEMA });
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || isList(value)) return undefined;
  if (!plainTree(value, MAX_DEPTH)) return undefined;
  const obj = value as Record<string, unknown>;
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !findKind(apiVersion, kind)) return undefined;
  if ((validateResource(obj) ?? []).length > 0) return undefined;
  const location = contentStart(file, text);
  if (!location) return undefined;
  return { objects: [{ object: withExactArrays(obj) as LocatedObject['object'], location }], diagnostics: [] };
}

/** An `&anchor` or `*alias` token (or something that looks like one: the located parser then decides). */
const ANCHOR_OR_ALIAS = /(^|[\s[{,:?-])[&*][^\s,\]}]/m;

/**
 * Whether `value` is a tree of plain data: no `<<` merge key (the located parser decides what it means), nothing but
 * plain objects and arrays, no deeper than `max`. Iterative and linear. (Shared objects come only from aliases, which
 * never reach this path.)
 */
function plainTree(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return false;
    if (Array.isArray(v)) {
      for (const item of v) stack.push([item, depth + 1]);
      continue;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) return false; // a tagged or exotic value
    for (const [k, item] of Object.entries(v)) {
      if (k === '<<') return false;
      stack.push([item, depth + 1]);
    }
  }
  return true;
}

/** Where a single document's content starts: its first line that is not blank, a comment or a `---` marker. */
function contentStart(file: string, text: string): SourceLocation | undefined {
  let line = 1;
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    const raw = text.slice(start, end === -1 ? text.length : end);
    const body = raw.replace(/^---(?=[ \t\r]|$)/, '   ');
    const column = body.search(/[^ \t\r]/);
    if (column !== -1 && body[column] !== '#') {
      if (body[column] === '%') return undefined; // a directive: the located parser knows where content starts
      // Content after `--- ` on the marker line itself, or a tab or flow start: positions are the located parser's.
      if (body !== raw || raw[column] === '{' || /\t/.test(raw.slice(0, column))) return undefined;
      return { file, line, column: column + 1 };
    }
    if (end === -1) break;
    start = end + 1;
    line++;
  }
  return undefined;
}

/** The located parser (yaml): positions for every problem, aliases bounded. Exported for the differential test. */
export function locatedParse(file: string, text: string): ParsedObjects {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const objects: LocatedObject[] = [];
  const diagnostics: Diagnostic[] = [];
  const at = (offset: number): SourceLocation => {
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };
  if (!Array.isArray(docs)) return { objects, diagnostics }; // empty stream
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        diagnostics.push({
          severity: 'error',
          message: /call stack/i.test(e.message) ? 'YAML: nested too deeply' : `YAML: ${firstLine(e.message)}`,
          field: '',
          location: at(e.pos[0]),
        });
      }
      continue;
    }
    if (doc.contents === null) continue; // `---` with nothing after it
    const start = at(doc.contents.range[0]);
    let value: unknown;
    try {
      // Aliases resolve within their own document only (an anchor in another document of the file is unresolved),
      // at most 100 of them (an alias bomb expands exponentially), and never into themselves.
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      diagnostics.push({
        severity: 'error',
        message: `YAML: ${aliasProblem(err)}`,
        field: '',
        location: firstAliasAt(doc, at) ?? start,
      });
      continue;
    }
    const tooDeep = deeperThan(value, MAX_DEPTH);
    if (tooDeep) {
      diagnostics.push({
        severity: 'error',
        message: `YAML: nested deeper than ${MAX_DEPTH} levels (at ${tooDeep}; an alias inside itself?)`,
        field: '',
        location: start,
      });
      continue;
    }
    if (value === null || value === undefined) continue; // an empty document
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      diagnostics.push({
        severity: 'error',
        message: 'expected a Kubernetes object (a mapping)',
        field: '',
        location: start,
      });
      continue;
    }
    const items = isList(value)
      ? listItems(value, doc.contents)
      : [{ obj: value as Record<string, unknown>, node: doc.contents }];
    for (const { obj, node } of items) {
      const located = checkObject(obj, node, at, diagnostics);
      if (located) objects.push({ object: withExactArrays(located.object), location: located.location });
    }
  }
  return { objects, diagnostics };
}

/** The parsed object with every array copied to its exact length (the parser grows them by push; see compact.ts). */
function withExactArrays<T>(value: T): T {
  if (Array.isArray(value)) return (value.length === 0 ? exact(value) : value.map(withExactArrays)) as T;
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = withExactArrays(record[key]);
  return value;
}

function checkObject(
  obj: Record<string, unknown>,
  node: Node,
  at: (offset: number) => SourceLocation,
  diagnostics: Diagnostic[],
): LocatedObject | undefined {
  const location = at(node.range?.[0] ?? 0);
  const { apiVersion, kind } = obj;
  const metadata = obj.metadata as { name?: unknown; namespace?: unknown } | undefined;
  const name = typeof metadata?.name === 'string' ? metadata.name : '?';
  const namespace = typeof metadata?.namespace === 'string' ? metadata.namespace : 'default';
  const object = `${String(kind)}/${namespace}/${name}`;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    diagnostics.push({ severity: 'error', message: 'apiVersion and kind are required', field: '', location });
    return undefined;
  }
  if (!findKind(apiVersion, kind)) {
    diagnostics.push({
      severity: 'warning',
      message: `${apiVersion} ${kind} is not a kind modelgate reads; ignored`,
      field: '',
      object,
      location,
    });
    return undefined;
  }
  const violations = validateResource(obj) ?? [];
  for (const v of violations) {
    diagnostics.push({
      severity: 'error',
      message: v.message,
      field: pointerToFieldPath(v.pointer),
      object,
      location: at(nodeAt(node, v.pointer)?.range?.[0] ?? node.range?.[0] ?? 0),
    });
  }
  if (violations.length > 0) return undefined;
  return { object: obj as LocatedObject['object'], location };
}

/** The deepest existing YAML node on the way to a JSON pointer (a missing field points at its parent). */
function nodeAt(root: Node, pointer: string): Node | undefined {
  let node: Node | undefined = root;
  const parts = pointer.split('/').slice(1);
  for (const [index, raw] of parts.entries()) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      // The last segment points at the field's key, which is where a person looks for an unknown or bad field.
      next = pair ? (index === parts.length - 1 ? pair.key : (pair.value ?? pair.key)) : undefined;
    } else if (isSeq(node)) {
      next = node.items[Number(key)];
    }
    if (next === undefined || next === null) break;
    node = next as Node;
  }
  return node;
}

function isList(value: object): boolean {
  const v = value as { kind?: unknown; items?: unknown };
  return typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items);
}

function listItems(value: object, node: Node): { obj: Record<string, unknown>; node: Node }[] {
  const itemsNode = isMap(node) ? (node.get('items', true) as Node | undefined) : undefined;
  return ((value as { items: unknown[] }).items ?? []).map((obj, i) => ({
    obj: obj as Record<string, unknown>,
    node: (isSeq(itemsNode) ? (itemsNode.items[i] as Node) : undefined) ?? node,
  }));
}

/** How deep a configuration object may nest (Kubernetes objects stay far below; a deeper one is a mistake or an attack). */
export const MAX_DEPTH = 64;

/** The path of the first value nested deeper than `max` levels, if any (iteratively: no recursion to overflow). */
export function deeperThan(value: unknown, max: number): string | undefined {
  const stack: [unknown, number, string][] = [[value, 0, '']];
  while (stack.length > 0) {
    const [v, depth, path] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return path.split('/').length > 7 ? `${path.split('/').slice(0, 7).join('/')}/…` : path || '/';
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) stack.push([item, depth + 1, `${path}/${i}`]);
    } else for (const [k, item] of Object.entries(v)) stack.push([item, depth + 1, `${path}/${k}`]);
  }
  return undefined;
}

/** What went wrong while resolving a document's aliases, in words. */
function aliasProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof RangeError && /call stack/i.test(message)) return 'an alias refers to itself or nests too deeply';
  if (/Unresolved alias/i.test(message))
    return `${firstLine(message)}; an anchor is only visible in its own document (after the last ---)`;
  if (/Excessive alias count/i.test(message)) return 'more than 100 aliases expand here (an alias bomb?)';
  return firstLine(message);
}

/** Where the document's first alias is, for a located error about aliases. */
function firstAliasAt(doc: Document, at: (offset: number) => SourceLocation): SourceLocation | undefined {
  let found: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      found = node.range?.[0];
      return visit.BREAK;
    },
  });
  return found === undefined ? undefined : at(found);
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
