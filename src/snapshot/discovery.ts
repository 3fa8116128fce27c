/**
 * The contract between the compiler and the spec fetcher. The compiler (pure) decides, from the resources, what must be
 * fetched or converted — `DocsTask`s, plain data in the snapshot — and reads what was found from `Discovered`; the
 * fetcher (the only I/O of the docs plane) carries the tasks out and hands results back, which triggers a recompile.
 */
import { createHash } from 'node:crypto';

/** Fetch the upstream's own document, V2 model metadata, or the OpenAI model list from a version's backends. */
export interface FetchTask {
  readonly kind: 'openapi' | 'v2-metadata' | 'v2-config' | 'mlrun-metadata' | 'openai-models';
  /** Stable identity; the key results are stored under. */
  readonly key: string;
  readonly method: 'GET' | 'OPTIONS';
  /** Either a path asked of the cluster's endpoints … */
  readonly cluster?: string;
  readonly path?: string;
  /** … or an absolute URL from the resource. */
  readonly url?: string;
  readonly refreshMs: number;
}

/** Convert a Swagger 2.0 document given inline or in a ConfigMap (the converter is asynchronous). */
export interface ConvertTask {
  readonly kind: 'convert';
  readonly key: string;
  readonly document: Record<string, unknown>;
}

/** Work for the fetcher. */
export type DocsTask = FetchTask | ConvertTask;

/** One successfully fetched (and, for Swagger 2.0, converted) document or metadata answer. */
export interface DiscoveredDocument {
  /** Parsed body: an OpenAPI 3.x document, or a metadata answer. */
  readonly body: unknown;
  /** `openapi`/`swagger` version of the original document, when it was one. */
  readonly originalVersion?: string;
  /** sha256 of the raw bytes received. */
  readonly sha256: string;
  readonly etag?: string;
  /** RFC 3339 time of the fetch (or of the last 304 that confirmed it). */
  readonly fetchedAt: string;
  /** Where it came from (origin + path, or the URL). */
  readonly location: string;
  /** An OpenAPI document already normalised to 3.1 by the document worker (the compiler takes it as it is). */
  readonly normalized?: boolean;
  /** What normalising found that makes the document unusable (dangling references…). */
  readonly normalizeErrors?: readonly string[];
}

/** What is known for a task: the last good result, and the error of the last attempt if it failed. */
export interface DiscoveryResult {
  readonly last?: DiscoveredDocument;
  readonly error?: string;
}

/** Results by task key. */
export type Discovered = ReadonlyMap<string, DiscoveryResult>;

/** Nothing discovered yet. */
export const NOTHING_DISCOVERED: Discovered = new Map();

/** Hex sha256 of a string or bytes. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The key of a fetch task. */
export function fetchKey(kind: FetchTask['kind'], method: string, where: string): string {
  return `${kind} ${method} ${where}`;
}
