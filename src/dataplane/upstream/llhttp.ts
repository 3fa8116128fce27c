/**
 * Node's own HTTP/1.1 parser (llhttp, compiled into the runtime): the one node:http parses every request and response
 * with. It is reached through the `_http_common` module, which has no public typings; this file types the small part
 * the upstream client uses, so nothing else touches the internal module.
 */
import { createRequire } from 'node:module';

/** Callbacks llhttp calls during `execute`, set as indexed properties (the binding's convention). */
export interface ResponseParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Parses a chunk; returns the bytes consumed or the parse error (its `code` is an `HPE_*` name). */
  execute(data: Buffer): number | (Error & { code?: string });
  /** The peer closed: completes an EOF-delimited body, or returns the error of an incomplete message. */
  finish(): number | (Error & { code?: string }) | undefined;
  /** Frees the native parser (it lives until closed). */
  close(): void;
  [callback: number]: unknown;
}

interface ParserBinding {
  new (): ResponseParser;
  readonly RESPONSE: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
}

const binding = (createRequire(import.meta.url)('_http_common') as { HTTPParser: ParserBinding }).HTTPParser;

export const HTTPParser = binding;
/** (headers, url): header lines that did not fit in one read, delivered before headers-complete. */
export const kOnHeaders = binding.kOnHeaders | 0;
/** (major, minor, headers, method, url, statusCode, statusMessage, upgrade, shouldKeepAlive) → 1 skips the body. */
export const kOnHeadersComplete = binding.kOnHeadersComplete | 0;
/** (chunk): a piece of the body, already de-chunked; the Buffer is the callee's. */
export const kOnBody = binding.kOnBody | 0;
/** (): the message is complete. */
export const kOnMessageComplete = binding.kOnMessageComplete | 0;
/** (): a new message starts (its first byte was read). */
export const kOnMessageBegin = binding.kOnMessageBegin | 0;
