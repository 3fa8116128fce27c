/**
 * Compact forms for what a snapshot keeps for as long as it serves. With ten thousand APIs the compiler's results,
 * statuses and memos hold a few hundred thousand small arrays and strings, and how V8 builds them mattered more
 * than what they contain.
 */

const EMPTY: readonly never[] = Object.freeze([]);

/**
 * A copy of `items` without spare capacity (the same shared frozen array for every empty list): V8 grows an empty
 * array to 16 slots on its first push() and never gives the slack back, while slice() allocates the exact length.
 */
export function exact<T>(items: readonly T[]): T[] {
  return (items.length === 0 ? EMPTY : items.slice()) as T[];
}

/**
 * The parts as one flat string. `a + b` and template literals make a rope (a tree of concatenation cells, 32 bytes
 * each, over the pieces), which is fine for a string used once and about twice the size of the flat one for a string
 * kept: a ref, an id, a URL, a description. join() builds the flat string directly.
 */
export function flat(...parts: string[]): string {
  // (One part is handed back as it is, rope or not: callers pass the pieces.)
  return parts.join('');
}

/** Whether two lists hold the very same items in the same order (the compiler's reuse checks compare identities). */
export function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Canonical values by their JSON text; cleared when full (sharing is an optimisation, never a requirement). */
const canonicalValues = new Map<string, object>();
const CANONICAL_LIMIT = 4096;

/**
 * One shared, frozen instance of a small plain-JSON value: timeouts, retry policies, rewrites and health settings
 * are the same for thousands of APIs (mostly the defaults), and each API would otherwise hold its own copies.
 */
export function canonical<T extends object>(value: T): T {
  const key = JSON.stringify(value);
  let known = canonicalValues.get(key);
  if (known === undefined) {
    if (canonicalValues.size >= CANONICAL_LIMIT) canonicalValues.clear();
    known = deepFreeze(value);
    canonicalValues.set(key, known);
  }
  return known as T;
}

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  return Object.freeze(value);
}
