/**
 * Reads an API description for the diff command: a file or an http(s) URL, JSON or YAML, OpenAPI 3.x or Swagger 2.0
 * (converted to 3.x first, as the docs plane does).
 */
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { parse } from 'yaml';
import { convertSwagger2 } from './swagger2.ts';

type Json = Record<string, unknown>;

const MAX_BYTES = 16 * 1024 * 1024;

/** Loads and parses `source`; throws an Error that names the source when it cannot. */
export async function loadDocument(source: string): Promise<Json> {
  let text: string;
  if (/^https?:\/\//.test(source)) {
    const res = await request(source, { headersTimeout: 10_000, bodyTimeout: 10_000 });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`${source}: HTTP ${res.statusCode}`);
    }
    text = await res.body.text();
  } else {
    text = await readFile(source, 'utf8');
  }
  if (text.length > MAX_BYTES) throw new Error(`${source}: larger than ${MAX_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = /^\s*[{[]/.test(text) ? JSON.parse(text) : parse(text);
  } catch (err) {
    throw new Error(`${source}: not JSON or YAML (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`${source}: not an OpenAPI document`);
  const doc = parsed as Json;
  if (typeof doc.swagger === 'string') return convertSwagger2(doc);
  if (typeof doc.openapi !== 'string') throw new Error(`${source}: no \`openapi\` version field`);
  return doc;
}
