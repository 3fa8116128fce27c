/**
 * An alias goes back in the answer: a request the OpenAI endpoint sent under an alias (`fast` → upstream
 * `meta-llama/Llama-3.1-8B-Instruct`) gets the alias in its answer's `model` field, in a JSON body and in every SSE
 * chunk, so a client sees the id it asked for. The bytes are rewritten as they pass (no parse of the body): the
 * member `"model":"<upstream id>"` (with or without a space after the colon, as Python servers write it) becomes the
 * alias. A chunk is held back only by the bytes at its end that could begin such a member, so an event's end is never
 * delayed.
 */
import type { ResponseTap } from './forward.ts';

type TapFactory = (status: number, headers: Readonly<Record<string, string | string[]>>) => ResponseTap | undefined;

export function modelAliasTap(upstream: string, alias: string): TapFactory {
  const id = JSON.stringify(upstream);
  const replacement = JSON.stringify(alias);
  const patterns = [`"model":${id}`, `"model": ${id}`].map((p) => Buffer.from(p));
  const replacements = [`"model":${replacement}`, `"model": ${replacement}`].map((r) => Buffer.from(r));
  return () => {
    let held: Buffer = Buffer.alloc(0);
    const rewrite = (input: Buffer, final: boolean): Buffer => {
      let text = held.length > 0 ? Buffer.concat([held, input]) : input;
      held = Buffer.alloc(0);
      for (const [i, pattern] of patterns.entries()) text = replaceAll(text, pattern, replacements[i]!);
      if (final) return text;
      const keep = heldTail(text, patterns);
      if (keep === 0) return text;
      held = Buffer.from(text.subarray(text.length - keep));
      return text.subarray(0, text.length - keep);
    };
    return {
      rewrites: true,
      data: (chunk) => rewrite(chunk, false),
      end: () => (held.length > 0 ? rewrite(Buffer.alloc(0), true) : undefined),
      abort: () => {
        held = Buffer.alloc(0);
      },
    };
  };
}

function replaceAll(text: Buffer, pattern: Buffer, replacement: Buffer): Buffer {
  let at = text.indexOf(pattern);
  if (at < 0) return text;
  const parts: Buffer[] = [];
  let from = 0;
  while (at >= 0) {
    parts.push(text.subarray(from, at), replacement);
    from = at + pattern.length;
    at = text.indexOf(pattern, from);
  }
  parts.push(text.subarray(from));
  return Buffer.concat(parts);
}

/** How many bytes at the end of `text` could be the start of one of the patterns (0 almost always). */
function heldTail(text: Buffer, patterns: readonly Buffer[]): number {
  let keep = 0;
  for (const pattern of patterns) {
    const max = Math.min(pattern.length - 1, text.length);
    for (let k = max; k > keep; k--) {
      if (text.compare(pattern, 0, k, text.length - k, text.length) === 0) {
        keep = k;
        break;
      }
    }
  }
  return keep;
}
