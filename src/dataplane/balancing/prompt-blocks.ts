/**
 * A prompt's leading blocks as chained hashes, the key of prefix affinity: two requests whose prompts begin with the
 * same N blocks share their first N hashes (each hash covers its block and every block before it), so the hashes say
 * how much of a prompt's beginning a server that saw the other one probably holds in its KV cache. Like the Gateway
 * API Inference Extension's prefix plugin, on characters rather than tokens (the gateway has no tokenizer; a block of
 * 256 characters is about 64 tokens).
 */

/** The text a model server caches for an OpenAI-style request body: rendered chat messages, or the prompt/input. */
export function promptOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { messages?: unknown; prompt?: unknown; input?: unknown };
  if (Array.isArray(b.messages)) {
    let text = '';
    for (const m of b.messages) {
      if (typeof m !== 'object' || m === null) continue;
      const { role, content } = m as { role?: unknown; content?: unknown };
      text += `<${typeof role === 'string' ? role : ''}>${contentText(content)}`;
    }
    return text;
  }
  const p = b.prompt ?? b.input;
  if (typeof p === 'string') return p;
  if (Array.isArray(p) && typeof p[0] === 'string') return p.join('\n');
  return undefined;
}

/** A message's text: a string, or the text parts of a content array (images and audio leave no text). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) {
    if (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string') {
      text += (part as { text: string }).text;
    }
  }
  return text;
}

/**
 * Chained 32-bit FNV-1a hashes of the first `maxBlocks` full blocks of `text` (a partial last block is not a cache
 * unit on the server either). Cost: one multiply per character hashed.
 */
export function blockHashes(text: string, blockSize: number, maxBlocks: number): Uint32Array {
  const blocks = Math.min(maxBlocks, Math.floor(text.length / blockSize));
  const out = new Uint32Array(blocks);
  let h = 0x811c9dc5;
  for (let b = 0; b < blocks; b++) {
    const end = (b + 1) * blockSize;
    for (let i = b * blockSize; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    out[b] = h >>> 0;
  }
  return out;
}

/** The block hashes of a JSON request body, or undefined when it is not an OpenAI-style prompt. */
export function promptBlocksOf(body: Buffer, blockSize: number, maxBlocks: number): Uint32Array | undefined {
  let first = 0;
  while (
    first < body.length &&
    (body[first] === 0x20 || body[first] === 0x0a || body[first] === 0x0d || body[first] === 0x09)
  )
    first++;
  if (body[first] !== 0x7b /* { */) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const text = promptOf(parsed);
  return text === undefined ? undefined : blockHashes(text, blockSize, maxBlocks);
}
