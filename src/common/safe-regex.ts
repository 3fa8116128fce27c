/**
 * Every regular expression a user writes (HTTPRoute path, header and query matches) runs on RE2's linear-time
 * engine (re2js, the JavaScript port of RE2): no pattern can backtrack catastrophically, whatever the input, so one
 * route cannot stall the event loop for every request (ReDoS). The compiler checks patterns with the same engine, so
 * a pattern that is accepted is one that compiles here; RE2's syntax is the Gateway API's own reference (Envoy).
 */
import { RE2JS } from 're2js';

/** A compiled pattern that must match the whole input. */
export interface SafeRegex {
  readonly source: string;
  fullMatch(input: string): boolean;
}

/** Compiles `pattern` for whole-input matching, or says why it cannot be compiled. */
export function compileSafeRegex(pattern: string): SafeRegex | { readonly error: string } {
  try {
    const re = RE2JS.compile(pattern);
    return { source: pattern, fullMatch: (input) => re.matches(input) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** The error of a pattern that does not compile, if it does not. */
export function regexError(pattern: string): string | undefined {
  const compiled = compileSafeRegex(pattern);
  return 'error' in compiled ? compiled.error : undefined;
}
