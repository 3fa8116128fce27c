/**
 * A simulated vLLM server: an OpenAI-compatible endpoint whose timing behaves like one vLLM replica where it matters
 * for load balancing — continuous batching with a batch capacity, a waiting queue, chunked prefill whose cost is
 * proportional to the prompt tokens *not* found in the prefix cache (an LRU of prompt-block hashes inside the KV
 * cache), a decode step per generated token, SSE streaming, and vLLM's metric names at `/metrics`. No model runs: the
 * "tokens" are filler words; only the timing and the counters are the point.
 *
 * The defaults are a 7B model on one A100-class GPU with time scaled down by 5 (`timeScale: 0.2`) so a benchmark fits
 * minutes: prefill ≈ 10,000 tokens/s real (0.1 ms per token), a decode step ≈ 15 ms + 0.25 ms per running sequence,
 * 32 sequences per batch, 2,048 batched tokens per step, and KV cache for 65,536 tokens in blocks of 16.
 *
 *   node examples/servers/vllm-simulator.ts [--replicas 4] [--slow 1] [--port 0] [--time-scale 0.2] [--kv-blocks 4096]
 *     [--max-running 32]
 *
 * prints one JSON line `{"ports":[…]}` once every replica listens (the last `--slow` replicas run at half speed).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJson, sendJson, startServer } from './http-util.ts';

/** What one replica is like. Times are real-GPU figures; `timeScale` multiplies them all. */
export interface SimulatorOptions {
  readonly model?: string;
  /** Sequences in a batch at once (vLLM `max_num_seqs`). */
  readonly maxRunning?: number;
  /** Tokens processed in one step, prefill chunks and decodes together (vLLM `max_num_batched_tokens`). */
  readonly maxBatchedTokens?: number;
  /** KV-cache capacity in blocks of `blockTokens`. */
  readonly kvBlocks?: number;
  readonly blockTokens?: number;
  readonly prefillMsPerToken?: number;
  readonly decodeStepMs?: number;
  readonly decodeMsPerSequence?: number;
  /** Multiplies every duration (0.2: five times faster than real). */
  readonly timeScale?: number;
  /** 0.5: a GPU half as fast (every step takes twice as long). */
  readonly speed?: number;
  /** `v1` exports `vllm:kv_cache_usage_perc`; `v0` the older `vllm:gpu_cache_usage_perc`. */
  readonly metricNames?: 'v1' | 'v0';
}

/** Characters per token: the simulator's tokenizer (close to English text with BPE vocabularies). */
export const CHARS_PER_TOKEN = 4;

interface Sequence {
  readonly promptTokens: number;
  readonly blockHashes: readonly number[];
  readonly maxTokens: number;
  prefillLeft: number;
  generated: number;
  blocks: number;
  readonly arrived: number;
  firstTokenAt?: number;
  /** Called after each step that produced a token for it. */
  readonly onToken: (index: number) => void;
  readonly onDone: () => void;
  cancelled: boolean;
}

/** Chained 32-bit FNV-1a hashes of the prompt's full blocks (each depends on every block before it). */
export function promptBlockHashes(text: string, blockChars: number): number[] {
  const hashes: number[] = [];
  let h = 0x811c9dc5;
  const full = Math.floor(text.length / blockChars);
  for (let b = 0; b < full; b++) {
    for (let i = b * blockChars; i < (b + 1) * blockChars; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    hashes.push(h >>> 0);
  }
  return hashes;
}

/** One replica's engine: the scheduler loop, the KV cache and its prefix cache, the counters vLLM exports. */
export class SimulatedEngine {
  readonly model: string;
  readonly maxRunning: number;
  readonly maxBatchedTokens: number;
  readonly kvBlocks: number;
  readonly blockTokens: number;
  readonly prefillMsPerToken: number;
  readonly decodeStepMs: number;
  readonly decodeMsPerSequence: number;
  readonly metricNames: 'v1' | 'v0';
  readonly #waiting: Sequence[] = [];
  readonly #running: Sequence[] = [];
  /** Prefix cache: block hash → present, in LRU order (Map insertion order; a hit re-inserts). */
  readonly #cached = new Map<number, true>();
  #allocated = 0;
  #stepping = false;
  readonly counters = {
    /** Generations asked for (whether or not they have started). */
    submitted: 0,
    prefixQueries: 0,
    prefixHits: 0,
    promptTokens: 0,
    generationTokens: 0,
    finished: 0,
    ttftSeconds: [] as number[],
  };

  constructor(options: SimulatorOptions = {}) {
    const scale = (options.timeScale ?? 0.2) / (options.speed ?? 1);
    this.model = options.model ?? 'sim-7b';
    this.maxRunning = options.maxRunning ?? 32;
    this.maxBatchedTokens = options.maxBatchedTokens ?? 2048;
    this.kvBlocks = options.kvBlocks ?? 4096;
    this.blockTokens = options.blockTokens ?? 16;
    this.prefillMsPerToken = (options.prefillMsPerToken ?? 0.1) * scale;
    this.decodeStepMs = (options.decodeStepMs ?? 15) * scale;
    this.decodeMsPerSequence = (options.decodeMsPerSequence ?? 0.25) * scale;
    this.metricNames = options.metricNames ?? 'v1';
  }

  get waiting(): number {
    return this.#waiting.length;
  }
  get running(): number {
    return this.#running.length;
  }
  /** Share of the KV cache held by running sequences (0–1). */
  get kvUsage(): number {
    return this.#allocated / this.kvBlocks;
  }

  /** Queues a generation; `onToken` per token (the first one is the time to first token), `onDone` at the end. */
  submit(prompt: string, maxTokens: number, onToken: (index: number) => void, onDone: () => void): () => void {
    const seq: Sequence = {
      promptTokens: Math.max(1, Math.ceil(prompt.length / CHARS_PER_TOKEN)),
      blockHashes: promptBlockHashes(prompt, this.blockTokens * CHARS_PER_TOKEN),
      maxTokens: Math.max(1, maxTokens),
      prefillLeft: 0,
      generated: 0,
      blocks: 0,
      arrived: performance.now(),
      onToken,
      onDone,
      cancelled: false,
    };
    this.#waiting.push(seq);
    this.counters.submitted++;
    this.#kick();
    return () => {
      seq.cancelled = true;
    };
  }

  #kick(): void {
    if (this.#stepping) return;
    this.#stepping = true;
    setImmediate(() => this.#step());
  }

  /** Admits what fits, runs one batched step (prefill chunks + one decode per sequence), then schedules the next. */
  #step(): void {
    this.#dropCancelled();
    while (this.#waiting.length > 0 && this.#running.length < this.maxRunning) {
      const seq = this.#waiting[0]!;
      // The longest run of leading blocks already in the cache is not computed again (at least one token is), and is
      // shared with the sequences that use it: only the rest of the prompt and the output take new blocks.
      let hit = 0;
      while (hit < seq.blockHashes.length && this.#cached.has(seq.blockHashes[hit]!)) hit++;
      const cachedTokens = Math.min(hit * this.blockTokens, seq.promptTokens - 1);
      const blocks = Math.ceil((seq.promptTokens - cachedTokens + seq.maxTokens) / this.blockTokens);
      if (this.#allocated + blocks > this.kvBlocks && this.#running.length > 0) break;
      this.#waiting.shift();
      for (let b = 0; b < hit; b++) {
        this.#cached.delete(seq.blockHashes[b]!);
        this.#cached.set(seq.blockHashes[b]!, true);
      }
      this.counters.prefixQueries += seq.promptTokens;
      this.counters.prefixHits += cachedTokens;
      this.counters.promptTokens += seq.promptTokens;
      seq.prefillLeft = seq.promptTokens - cachedTokens;
      seq.blocks = blocks;
      this.#allocated += blocks;
      this.#evict();
      this.#running.push(seq);
    }
    if (this.#running.length === 0) {
      this.#stepping = false;
      return;
    }
    let budget = this.maxBatchedTokens;
    let decoding = 0;
    for (const seq of this.#running) if (seq.prefillLeft === 0) decoding++;
    budget -= decoding;
    let prefill = 0;
    const finishingPrefill: Sequence[] = [];
    for (const seq of this.#running) {
      if (seq.prefillLeft === 0 || budget <= 0) continue;
      const take = Math.min(seq.prefillLeft, budget);
      seq.prefillLeft -= take;
      budget -= take;
      prefill += take;
      if (seq.prefillLeft === 0) finishingPrefill.push(seq);
    }
    const ms = this.decodeStepMs + this.decodeMsPerSequence * decoding + this.prefillMsPerToken * prefill;
    const decoders = this.#running.filter((s) => s.prefillLeft === 0 && !finishingPrefill.includes(s));
    setTimeout(() => this.#endStep(decoders, finishingPrefill), ms);
  }

  #endStep(decoders: readonly Sequence[], prefilled: readonly Sequence[]): void {
    const now = performance.now();
    for (const seq of [...prefilled, ...decoders]) {
      if (seq.cancelled) continue;
      if (seq.generated === 0) {
        seq.firstTokenAt = now;
        this.counters.ttftSeconds.push((now - seq.arrived) / 1000);
      }
      seq.onToken(seq.generated++);
      this.counters.generationTokens++;
      if (seq.generated >= seq.maxTokens) this.#finish(seq);
    }
    this.#step();
  }

  #finish(seq: Sequence): void {
    const i = this.#running.indexOf(seq);
    if (i >= 0) this.#running.splice(i, 1);
    this.#allocated -= seq.blocks;
    // The prompt's blocks stay in the cache for the next request that starts the same way (LRU).
    for (const h of seq.blockHashes) {
      this.#cached.delete(h);
      this.#cached.set(h, true);
    }
    this.#evict();
    this.counters.finished++;
    if (!seq.cancelled) seq.onDone();
  }

  #dropCancelled(): void {
    for (let i = this.#waiting.length - 1; i >= 0; i--) if (this.#waiting[i]!.cancelled) this.#waiting.splice(i, 1);
    for (const seq of this.#running.filter((s) => s.cancelled)) this.#finish(seq);
  }

  /** Cached blocks live in the KV cache's free part: what running sequences hold is not available to them. */
  #evict(): void {
    const room = Math.max(0, this.kvBlocks - this.#allocated);
    for (const h of this.#cached.keys()) {
      if (this.#cached.size <= room) break;
      this.#cached.delete(h);
    }
  }

  /** The Prometheus text vLLM serves at /metrics (the names the gateway's inference-aware balancer reads). */
  metrics(): string {
    const label = `{model_name="${this.model}"}`;
    const kvName = this.metricNames === 'v1' ? 'vllm:kv_cache_usage_perc' : 'vllm:gpu_cache_usage_perc';
    const lines = [
      '# HELP vllm:num_requests_running Number of requests in model execution batches.',
      '# TYPE vllm:num_requests_running gauge',
      `vllm:num_requests_running${label} ${this.running}`,
      '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
      '# TYPE vllm:num_requests_waiting gauge',
      `vllm:num_requests_waiting${label} ${this.waiting}`,
      `# HELP ${kvName} KV-cache usage. 1 means 100 percent usage.`,
      `# TYPE ${kvName} gauge`,
      `${kvName}${label} ${this.kvUsage}`,
      '# HELP vllm:prefix_cache_queries_total Prefix cache queries, in terms of number of queried tokens.',
      '# TYPE vllm:prefix_cache_queries_total counter',
      `vllm:prefix_cache_queries_total${label} ${this.counters.prefixQueries}`,
      '# HELP vllm:prefix_cache_hits_total Prefix cache hits, in terms of number of cached tokens.',
      '# TYPE vllm:prefix_cache_hits_total counter',
      `vllm:prefix_cache_hits_total${label} ${this.counters.prefixHits}`,
      '# HELP vllm:prompt_tokens_total Number of prefill tokens processed.',
      '# TYPE vllm:prompt_tokens_total counter',
      `vllm:prompt_tokens_total${label} ${this.counters.promptTokens}`,
      '# HELP vllm:generation_tokens_total Number of generation tokens processed.',
      '# TYPE vllm:generation_tokens_total counter',
      `vllm:generation_tokens_total${label} ${this.counters.generationTokens}`,
      '# HELP vllm:request_success_total Count of successfully processed requests.',
      '# TYPE vllm:request_success_total counter',
      `vllm:request_success_total{finished_reason="length",model_name="${this.model}"} ${this.counters.finished}`,
      ...histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', label, [
        this.counters.ttftSeconds,
      ]),
    ];
    return `${lines.join('\n')}\n`;
  }
}

const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

function histogram(name: string, help: string, label: string, [values]: [number[]]): string[] {
  const inner = label.slice(1, -1);
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
  for (const le of [...TTFT_BUCKETS, Number.POSITIVE_INFINITY]) {
    const count = values.filter((v) => v <= le).length;
    lines.push(`${name}_bucket{${inner},le="${le === Number.POSITIVE_INFINITY ? '+Inf' : le}"} ${count}`);
  }
  lines.push(`${name}_sum${label} ${values.reduce((a, b) => a + b, 0)}`, `${name}_count${label} ${values.length}`);
  return lines;
}

interface CompletionBody {
  model?: string;
  messages?: { role: string; content: unknown }[];
  prompt?: string;
  max_tokens?: number;
  stream?: boolean;
}

/** The prompt as the model would see it: chat messages rendered one after the other, or the completion prompt. */
export function promptText(body: CompletionBody): string {
  if (Array.isArray(body.messages)) {
    return body.messages
      .map((m) => `<|${m.role}|>${typeof m.content === 'string' ? m.content : JSON.stringify(m.content)}`)
      .join('');
  }
  return typeof body.prompt === 'string' ? body.prompt : '';
}

/** The HTTP face of one engine: /v1/models, /v1/chat/completions, /v1/completions (SSE with stream), /metrics. */
export function simulatorHandler(engine: SimulatedEngine) {
  let ids = 0;
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(engine.metrics());
      return true;
    }
    if (req.method === 'GET' && path === '/health') {
      res.writeHead(200);
      res.end();
      return true;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, { object: 'list', data: [{ id: engine.model, object: 'model', owned_by: 'vllm' }] });
      return true;
    }
    const chat = path === '/v1/chat/completions';
    if (req.method !== 'POST' || (!chat && path !== '/v1/completions')) return false;
    const body = (await readJson(req)) as CompletionBody;
    const id = `cmpl-${++ids}`;
    const created = Math.floor(Date.now() / 1000);
    const maxTokens = body.max_tokens ?? 16;
    const prompt = promptText(body);
    const promptTokens = Math.max(1, Math.ceil(prompt.length / CHARS_PER_TOKEN));
    const usage = { prompt_tokens: promptTokens, completion_tokens: maxTokens, total_tokens: promptTokens + maxTokens };
    const object = chat ? 'chat.completion' : 'text_completion';
    let text = '';
    if (body.stream) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const cancel = engine.submit(
      prompt,
      maxTokens,
      (i) => {
        const word = i === 0 ? 'tok' : ' tok';
        text += word;
        if (!body.stream) return;
        const choice = chat ? { index: 0, delta: { content: word } } : { index: 0, text: word };
        res.write(
          `data: ${JSON.stringify({ id, object: `${object}.chunk`, created, model: engine.model, choices: [choice] })}\n\n`,
        );
      },
      () => {
        if (body.stream) {
          res.end('data: [DONE]\n\n');
          return;
        }
        const choice = chat
          ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'length' }
          : { index: 0, text, finish_reason: 'length' };
        sendJson(res, 200, { id, object, created, model: engine.model, choices: [choice], usage });
      },
    );
    res.on('close', () => {
      if (!res.writableFinished) cancel();
    });
    return true;
  };
}

/** Starts one simulated replica (on 127.0.0.1 unless another loopback address is asked for). */
export async function startSimulator(options: SimulatorOptions = {}, port = 0, host = '127.0.0.1') {
  const engine = new SimulatedEngine(options);
  const { server, port: bound } = await startServer(simulatorHandler(engine), port, host);
  return { engine, server, port: bound, origin: `http://${host}:${bound}` };
}

if (import.meta.main) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const replicas = arg('replicas', 1);
  const slow = arg('slow', 0);
  const port = arg('port', 0);
  const base: SimulatorOptions = {
    timeScale: arg('time-scale', 0.2),
    kvBlocks: arg('kv-blocks', 4096),
    maxRunning: arg('max-running', 32),
  };
  const ports: number[] = [];
  for (let r = 0; r < replicas; r++) {
    const sim = await startSimulator({ ...base, speed: r >= replicas - slow ? 0.5 : 1 }, port === 0 ? 0 : port + r);
    ports.push(sim.port);
  }
  process.stdout.write(`${JSON.stringify({ ports })}\n`);
}
