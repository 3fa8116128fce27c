/**
 * Token accounting for OpenAI-compatible APIs: the tokens a call cost are the `usage` the model reports — in the JSON
 * answer, or for a streamed answer in the extra chunk that `stream_options.include_usage` asks for. When the client
 * did not ask for that chunk the gateway asks on its behalf and removes the chunk again, so the client sees exactly
 * the stream it asked for. Stream rewriting works per event: each event leaves as soon as its blank line arrives.
 */
import type { ResponseTap } from '../../dataplane/forward.ts';

/** The request body as sent upstream, whether the usage chunk was asked for by the gateway, and what it asks. */
export interface PreparedBody {
  readonly body: Buffer;
  readonly injected: boolean;
  /** The request's `model`, when it names one. */
  readonly model?: string;
  readonly stream?: boolean;
}

/** Asks a streamed chat/completions request for its usage when the client did not. */
export function requestUsage(body: Buffer): PreparedBody {
  if (body.length === 0) return { body, injected: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { body, injected: false };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { body, injected: false };
  const request = parsed as { model?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } | null };
  const asks = {
    ...(typeof request.model === 'string' ? { model: request.model } : {}),
    stream: request.stream === true,
  };
  if (request.stream !== true || request.stream_options?.include_usage === true)
    return { body, injected: false, ...asks };
  const rewritten = { ...request, stream_options: { ...(request.stream_options ?? {}), include_usage: true } };
  return { body: Buffer.from(JSON.stringify(rewritten)), injected: true, ...asks };
}

const MAX_JSON_BYTES = 8 * 1024 * 1024;

/** What a model reported a call cost, and which model answered. */
export interface Usage {
  /** `total_tokens`, else prompt + completion. */
  readonly total: number;
  readonly input: number;
  readonly output: number;
  /** The answer's `model`, when it says. */
  readonly model?: string;
}

/**
 * A tap that finds the usage of a response and reports it once, when the body ends or is cut off after the usage was
 * seen. `strip` removes the usage-only chunk. `onFirstChunk` is told when the first bytes of a 200 answer pass (time
 * to first token for a stream).
 */
export function usageTap(
  strip: boolean,
  onUsage: (usage: Usage) => void,
  onFirstChunk?: () => void,
): (status: number, headers: Readonly<Record<string, string | string[]>>) => ResponseTap | undefined {
  return (status, headers) => {
    if (status !== 200) return undefined;
    const type = String(headers['content-type'] ?? '').toLowerCase();
    if (type.startsWith('text/event-stream')) return new SseUsageTap(strip, onUsage, onFirstChunk);
    if (type.includes('json')) return new JsonUsageTap(onUsage, onFirstChunk);
    return undefined;
  };
}

class JsonUsageTap implements ResponseTap {
  readonly rewrites = false;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  readonly #onUsage: (usage: Usage) => void;
  #onFirstChunk: (() => void) | undefined;

  constructor(onUsage: (usage: Usage) => void, onFirstChunk?: () => void) {
    this.#onUsage = onUsage;
    this.#onFirstChunk = onFirstChunk;
  }

  data(chunk: Buffer): Buffer {
    if (this.#onFirstChunk) {
      this.#onFirstChunk();
      this.#onFirstChunk = undefined;
    }
    this.#size += chunk.length;
    if (this.#size <= MAX_JSON_BYTES) this.#chunks.push(chunk);
    return chunk;
  }

  end(): undefined {
    if (this.#size > MAX_JSON_BYTES) return undefined;
    try {
      const answer = JSON.parse(Buffer.concat(this.#chunks).toString('utf8')) as { usage?: unknown; model?: unknown };
      const usage = usageOf(answer.usage, answer.model);
      if (usage !== undefined) this.#onUsage(usage);
    } catch {
      // not JSON: nothing to count
    }
    return undefined;
  }

  abort(): void {}
}

class SseUsageTap implements ResponseTap {
  readonly rewrites: boolean;
  readonly #onUsage: (usage: Usage) => void;
  #onFirstChunk: (() => void) | undefined;
  #carry: Buffer = Buffer.alloc(0);
  #usage: Usage | undefined;
  #reported = false;

  constructor(strip: boolean, onUsage: (usage: Usage) => void, onFirstChunk?: () => void) {
    this.rewrites = strip;
    this.#onUsage = onUsage;
    this.#onFirstChunk = onFirstChunk;
  }

  data(chunk: Buffer): Buffer {
    if (this.#onFirstChunk) {
      this.#onFirstChunk();
      this.#onFirstChunk = undefined;
    }
    const buf = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    const kept: Buffer[] = [];
    let start = 0;
    for (;;) {
      const end = eventEnd(buf, start);
      if (end < 0) break;
      const event = buf.subarray(start, end);
      if (!this.#inspect(event)) kept.push(event);
      start = end;
    }
    this.#carry = buf.subarray(start);
    if (!this.rewrites) return chunk; // only watching: the bytes pass exactly as they came
    return kept.length === 1 ? kept[0]! : Buffer.concat(kept);
  }

  end(): Buffer | undefined {
    const rest = this.#carry;
    this.#carry = Buffer.alloc(0);
    const dropped = rest.length > 0 && this.#inspect(rest);
    this.#report();
    return this.rewrites && !dropped && rest.length > 0 ? rest : undefined;
  }

  abort(): void {
    this.#report();
  }

  #report(): void {
    if (this.#reported || this.#usage === undefined) return;
    this.#reported = true;
    this.#onUsage(this.#usage);
  }

  /** Notes the usage an event reports; true when the event is the usage-only chunk to remove. */
  #inspect(event: Buffer): boolean {
    if (event.indexOf('"usage"') < 0) return false;
    const text = event.toString('utf8');
    const data = text
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    let parsed: { usage?: unknown; choices?: unknown };
    try {
      parsed = JSON.parse(data) as typeof parsed;
    } catch {
      return false;
    }
    const usage = usageOf(parsed.usage, (parsed as { model?: unknown }).model);
    if (usage === undefined) return false;
    this.#usage = usage;
    return this.rewrites && Array.isArray(parsed.choices) && parsed.choices.length === 0;
  }
}

/** Index just past the blank line that ends the event starting at `from`, or -1 when it has not arrived yet. */
function eventEnd(buf: Buffer, from: number): number {
  for (let i = buf.indexOf(10, from); i >= 0 && i < buf.length - 1; i = buf.indexOf(10, i + 1)) {
    if (buf[i + 1] === 10) return i + 2;
    if (buf[i + 1] === 13 && buf[i + 2] === 10) return i + 3;
  }
  return -1;
}

function usageOf(usage: unknown, model: unknown): Usage | undefined {
  if (typeof usage !== 'object' || usage === null) return undefined;
  const u = usage as { total_tokens?: unknown; prompt_tokens?: unknown; completion_tokens?: unknown };
  const input = typeof u.prompt_tokens === 'number' ? u.prompt_tokens : 0;
  const output = typeof u.completion_tokens === 'number' ? u.completion_tokens : 0;
  const total = typeof u.total_tokens === 'number' ? u.total_tokens : input + output;
  if (total <= 0 && typeof u.total_tokens !== 'number') return undefined;
  return { total, input, output, ...(typeof model === 'string' ? { model } : {}) };
}
