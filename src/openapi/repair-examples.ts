/**
 * Defaults and examples that break their own schema, repaired before a document is published. Real servers publish
 * them (TGI writes `default: "1024"` for an integer and `"false"` for a boolean; OpenAI a `default: []` under
 * `minItems: 1`; TGI a 404 example without the required `error_type`), both linters count them as errors, and a
 * client generator or a "Try it out" form would send the wrong value. A string that means a valid value of its schema
 * (`"1024"` → 1024, `"false"` → false, `"null"` → null, JSON text) is converted; anything else that does not validate
 * is dropped — the schema still says what is allowed, an example that contradicts it only misleads.
 *
 * Checked with @cfworker/json-schema (JSON Schema 2020-12, as OpenAPI 3.1), an interpreting validator, against the
 * document itself so `$ref`s resolve: Ajv would compile a validator per value (~0.5 ms each, seconds for a large
 * document) to run it once. Bounded: at most MAX_VALUES values per document; a value whose check throws (an invalid
 * `pattern`, an unresolvable reference) is left as it is.
 */
import { dereference, type Schema, validate } from '@cfworker/json-schema';
import { walkDocument } from './schema-walk.ts';

type Json = Record<string, unknown>;

const MAX_VALUES = 5_000;
const DOCUMENT_URI = 'https://modelgate.invalid/published.json';

/** One value to check: where its schema is, and how to keep, replace or drop it. */
interface Slot {
  readonly schemaPointer: string;
  readonly value: unknown;
  readonly settle: (outcome: { keep: true; value: unknown } | { keep: false }) => void;
}

/** Repairs `doc` (a normalised 3.1 document without dangling references) in place. */
export function repairExamples(doc: Json): void {
  const slots = collectSlots(doc);
  if (slots.length === 0) return;
  // The validator marks the schemas it indexes (non-enumerable properties): it reads a copy, never the document.
  let copy: Json;
  let lookup: Record<string, Schema | boolean>;
  try {
    copy = structuredClone(doc);
    lookup = dereference(copy as Schema, Object.create(null), new URL(DOCUMENT_URI));
  } catch {
    return;
  }
  const judge = (pointer: string, value: unknown): boolean | undefined => {
    // The copy's own object: dereference() has marked it with its absolute URI, so its `$ref`s resolve.
    const schema = resolvePointer(copy, pointer);
    if (typeof schema !== 'object' || schema === null) return undefined;
    try {
      return validate(value, schema as Schema, '2020-12', lookup, true).valid;
    } catch {
      return undefined;
    }
  };
  for (const slot of slots) {
    const verdict = judge(slot.schemaPointer, slot.value);
    if (verdict !== false) {
      slot.settle({ keep: true, value: slot.value });
      continue;
    }
    const reading =
      typeof slot.value === 'string'
        ? readings(slot.value).find((r) => judge(slot.schemaPointer, r) === true)
        : undefined;
    slot.settle(reading !== undefined ? { keep: true, value: reading } : { keep: false });
  }
}

/** Every default and example of the document with its schema, in document order, at most MAX_VALUES. */
function collectSlots(doc: Json): Slot[] {
  const slots: Slot[] = [];
  const add = (slot: Slot) => {
    if (slots.length < MAX_VALUES) slots.push(slot);
  };
  walkDocument(
    doc,
    (schema, pointer) => {
      if ('default' in schema) add(member(schema, 'default', pointer));
      if (Array.isArray(schema.examples)) listSlots(schema, pointer, add);
    },
    (holder, pointer) => {
      const schemaPointer = `${pointer}/schema`;
      if ('example' in holder) add(member(holder, 'example', schemaPointer));
      if (isObject(holder.examples)) {
        const examples = holder.examples;
        for (const [name, example] of Object.entries(examples)) {
          // Example Objects: their `value` (external values and `$ref`s are left as they are).
          if (!isObject(example) || !('value' in example)) continue;
          add({
            schemaPointer,
            value: example.value,
            settle: (o) => {
              if (o.keep) example.value = o.value;
              else delete examples[name];
            },
          });
        }
      }
    },
  );
  return slots;
}

function member(holder: Json, key: string, schemaPointer: string): Slot {
  return {
    schemaPointer,
    value: holder[key],
    settle: (o) => {
      if (o.keep) holder[key] = o.value;
      else delete holder[key];
    },
  };
}

/** A schema's `examples` list: each entry checked; the list dropped when none is left. */
function listSlots(schema: Json, pointer: string, add: (slot: Slot) => void): void {
  const list = schema.examples as unknown[];
  const outcomes: ({ keep: true; value: unknown } | { keep: false } | undefined)[] = list.map(() => undefined);
  const settleAll = () => {
    if (outcomes.some((o) => o === undefined)) return;
    const kept = outcomes.flatMap((o) => (o?.keep ? [o.value] : []));
    if (kept.length > 0) schema.examples = kept;
    else delete schema.examples;
  };
  for (const [i, value] of list.entries())
    add({
      schemaPointer: pointer,
      value,
      settle: (o) => {
        outcomes[i] = o;
        settleAll();
      },
    });
}

function resolvePointer(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** What a string might have meant: null, a boolean, a number, JSON text. */
function readings(text: string): unknown[] {
  const trimmed = text.trim();
  const out: unknown[] = [];
  if (trimmed === 'null' || trimmed === 'None') out.push(null);
  if (trimmed === 'true' || trimmed === 'True') out.push(true);
  if (trimmed === 'false' || trimmed === 'False') out.push(false);
  if (trimmed !== '' && Number.isFinite(Number(trimmed))) out.push(Number(trimmed));
  if (/^[[{]/.test(trimmed)) {
    try {
      out.push(JSON.parse(trimmed));
    } catch {
      // not JSON
    }
  }
  return out;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
