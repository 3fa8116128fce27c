/**
 * Reads one endpoint's load from its Prometheus metrics every `intervalMs` (InferenceAware clusters): requests waiting,
 * requests running and KV-cache use, under the metric names the cluster lists (vLLM, TGI, Triton, SGLang by default).
 * Through the endpoint's own connection pool (or one connection to the metrics port), bounded in time and size; the
 * text is parsed by a Prometheus text-format parser (parse-prometheus-text-format) after the lines of other families
 * are set aside. A failed scrape leaves the last figures to age out: the balancer stops using them after `staleMs`.
 */
import parsePrometheus from 'parse-prometheus-text-format';
import type { EndpointMetricsScrape } from '../../snapshot/types.ts';
import type { Endpoint } from '../endpoint.ts';
import { exchangeText, type UpstreamTransport } from '../upstream/transport.ts';

/** What a scrape found: each figure from the first listed family present, NaN when none is. */
export interface ScrapedLoad {
  readonly waiting: number;
  readonly running: number;
  readonly kvCache: number;
}

/** Parses the families `config` names out of a metrics text; waiting/running summed over series, KV cache the max. */
export function readLoad(
  text: string,
  config: Pick<EndpointMetricsScrape, 'waiting' | 'running' | 'kvCache'>,
): ScrapedLoad {
  const wanted = new Set([...config.waiting, ...config.running, ...config.kvCache]);
  const families = new Map<string, number[]>();
  for (const family of parsePrometheus(keepFamilies(text, wanted))) {
    if (!wanted.has(family.name)) continue;
    const values: number[] = [];
    for (const m of family.metrics) {
      const v = Number(m.value);
      if (Number.isFinite(v)) values.push(v);
    }
    if (values.length > 0) families.set(family.name, values);
  }
  const first = (names: readonly string[]) => names.map((n) => families.get(n)).find((v) => v !== undefined);
  const sum = (v: number[] | undefined) => (v === undefined ? Number.NaN : v.reduce((a, b) => a + b, 0));
  const kv = first(config.kvCache);
  return {
    waiting: sum(first(config.waiting)),
    running: sum(first(config.running)),
    kvCache: kv === undefined ? Number.NaN : Math.min(1, Math.max(0, Math.max(...kv))),
  };
}

/**
 * The lines of the wanted families only (samples and their # HELP/# TYPE): a model server exports hundreds of
 * histogram lines the balancer never reads, and the parser's time grows with every line.
 */
function keepFamilies(text: string, wanted: ReadonlySet<string>): string {
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    let name: string;
    if (line.charCodeAt(0) === 0x23 /* # */) {
      const parts = line.split(' ', 3);
      if (parts[1] !== 'HELP' && parts[1] !== 'TYPE') continue;
      name = parts[2] ?? '';
    } else {
      const end = line.search(/[{ ]/);
      name = end < 0 ? line : line.slice(0, end);
    }
    if (wanted.has(name)) kept.push(line);
  }
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}

/** Scrapes one endpoint until stopped. */
export class MetricsScraper {
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Scrapes that failed in a row (tests, and a log line on the first). */
  failures = 0;
  lastError: string | undefined;
  readonly endpoint: Endpoint;
  readonly config: EndpointMetricsScrape;
  readonly transport: UpstreamTransport;
  readonly path: string;
  readonly hostHeader: string | undefined;

  constructor(
    endpoint: Endpoint,
    config: EndpointMetricsScrape,
    transport: UpstreamTransport,
    basePath: string,
    hostHeader: string | undefined,
  ) {
    this.endpoint = endpoint;
    this.config = config;
    this.transport = transport;
    this.path = basePath + config.path;
    this.hostHeader = hostHeader;
  }

  start(): void {
    void this.#scrape();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  async #scrape(): Promise<void> {
    if (this.#stopped) return;
    const started = Date.now();
    try {
      const { status, body } = await exchangeText(this.transport, {
        method: 'GET',
        path: this.path,
        headers: [
          'user-agent',
          'modelgate-load-scrape',
          'accept',
          'text/plain;version=0.0.4',
          ...(this.hostHeader ? ['host', this.hostHeader] : []),
        ],
        body: null,
        headersTimeout: this.config.timeoutMs,
        timeoutMs: this.config.timeoutMs,
        maxBytes: this.config.maxBytes,
      });
      if (status !== 200) throw new Error(`answered ${status}`);
      const load = readLoad(body, this.config);
      if (Number.isNaN(load.waiting) && Number.isNaN(load.running))
        throw new Error('none of the metric names is there');
      if (!this.#stopped) {
        this.endpoint.reported = {
          waiting: Number.isNaN(load.waiting) ? 0 : load.waiting,
          running: Number.isNaN(load.running) ? 0 : load.running,
          kvCache: load.kvCache,
          // The figures describe the moment the server answered: requests sent since then are added by the balancer.
          at: Date.now(),
          activeAtScrape: this.endpoint.active,
        };
        this.failures = 0;
        this.lastError = undefined;
      }
    } catch (err) {
      this.failures++;
      this.lastError = (err as Error).message;
    }
    if (this.#stopped) return;
    const wait = Math.max(0, this.config.intervalMs - (Date.now() - started));
    this.#timer = setTimeout(() => void this.#scrape(), wait);
    this.#timer.unref();
  }
}
