/**
 * Golden tests of the docs pass (sources → rendered parts → merge): each `test/golden/docs/NAME.in.yaml` (resources)
 * plus optional `NAME.discovered.yaml` (what the spec fetcher would have found: `key` → `body` or `error`) compiles to
 * `NAME.out.yaml`: the merged document, the Documented conditions, provenance and merge reports. Swagger 2.0 inputs go
 * through the real converter, as the fetcher would run it. Every published document (merged, per API, per version)
 * must pass a real OpenAPI 3.1 validator. `UPDATE_GOLDEN=1 npm test` rewrites the outputs; review the diff.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { compileErrors, validate } from '@readme/openapi-parser';
import { parse, stringify } from 'yaml';
import { type CompileResult, compileSnapshot } from '../../src/compiler/compile.ts';
import { apiDocument, mergedDocument, versionDocument } from '../../src/docsplane/published.ts';
import { convertSwagger2 } from '../../src/openapi/swagger2.ts';
import type { ResourceSet } from '../../src/resources/types.ts';
import type { DiscoveryResult } from '../../src/snapshot/discovery.ts';
import { collect } from '../../src/sources/load-directory.ts';
import { parseObjects } from '../../src/sources/parse-yaml.ts';

const dir = new URL('../golden/docs/', import.meta.url);
const update = process.env.UPDATE_GOLDEN === '1';
const FETCHED_AT = '2026-01-01T00:00:00.000Z';

interface DiscoveredEntry {
  key: string;
  body?: unknown;
  error?: string;
  etag?: string;
  originalVersion?: string;
  /** With `error`: the last good body is kept. */
  lastGood?: unknown;
}

async function compileCase(resources: ResourceSet, entries: DiscoveredEntry[]): Promise<CompileResult> {
  const discovered = new Map<string, DiscoveryResult>();
  const doc = (body: unknown, e: DiscoveredEntry) => ({
    body,
    sha256: 'f'.repeat(64),
    fetchedAt: FETCHED_AT,
    // The key ends with `<namespace>/<api>/<version><path>`: the location is that path on a made-up endpoint.
    location: `http://10.9.9.9:8080/${e.key.split(' ').at(-1)!.split('/').slice(3).join('/')}`,
    ...(e.etag ? { etag: e.etag } : {}),
    ...(e.originalVersion ? { originalVersion: e.originalVersion } : {}),
  });
  for (const e of entries) {
    if (e.error !== undefined)
      discovered.set(e.key, { error: e.error, ...(e.lastGood !== undefined ? { last: doc(e.lastGood, e) } : {}) });
    else discovered.set(e.key, { last: doc(e.body, e) });
  }
  let result = compileSnapshot(resources, { discovered, defaultPublicURL: GOLDEN_PUBLIC_URL });
  // Conversions are the fetcher's job: run them for real, then compile again (as the runtime does).
  for (const task of result.snapshot.docs.tasks) {
    if (task.kind !== 'convert' || discovered.has(task.key)) continue;
    discovered.set(task.key, {
      last: {
        body: await convertSwagger2(task.document),
        originalVersion: '2.0',
        sha256: 'c'.repeat(64),
        fetchedAt: FETCHED_AT,
        location: 'converted from Swagger 2.0',
      },
    });
    result = compileSnapshot(resources, { discovered, defaultPublicURL: GOLDEN_PUBLIC_URL });
  }
  return result;
}

async function assertValid(name: string, document: unknown): Promise<void> {
  const result = await validate(structuredClone(document) as never);
  assert.ok(result.valid, `${name} is not valid OpenAPI 3.1: ${compileErrors(result).slice(0, 3000)}`);
  assert.deepEqual(unusedComponents(document as Record<string, unknown>), [], `${name} publishes unused components`);
}

/** Components nothing in `paths` reaches (a document without operations may keep the Problem schema). */
function unusedComponents(document: Record<string, unknown>): string[] {
  const components = (document.components ?? {}) as Record<string, Record<string, unknown>>;
  const reached = new Set<string>();
  const pending = [...JSON.stringify(document.paths ?? {}).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
  if (Object.keys(document.paths ?? {}).length === 0) pending.push('#/components/schemas/modelgate.Problem');
  while (pending.length > 0) {
    const ref = pending.pop()!;
    if (reached.has(ref)) continue;
    reached.add(ref);
    const [, , section, name] = ref.split('/');
    const target = components[section!]?.[name!.replace(/~1/g, '/').replace(/~0/g, '~')];
    for (const m of JSON.stringify(target ?? {}).matchAll(/"\$ref":"([^"]+)"/g)) pending.push(m[1]!);
  }
  return Object.entries(components)
    .filter(([section]) => section !== 'securitySchemes')
    .flatMap(([section, entries]) =>
      Object.keys(entries).map((name) => `#/components/${section}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`),
    )
    .filter((ref) => !reached.has(ref));
}

// A public URL of its own: the default one (a loopback port, pinned by admin.test.ts) would read as a port bound by the test.
const GOLDEN_PUBLIC_URL = 'https://gateway.golden.test';

describe('docs golden files', () => {
  const inputs = readdirSync(dir).filter((f) => f.endsWith('.in.yaml'));
  it('has cases', () => assert.ok(inputs.length >= 5));
  for (const input of inputs) {
    const name = input.replace(/\.in\.yaml$/, '');
    it(name, async () => {
      const parsed = parseObjects(input, readFileSync(new URL(input, dir), 'utf8'));
      const diagnostics = [...parsed.diagnostics];
      const { resources } = collect(parsed.objects, diagnostics);
      assert.deepEqual(diagnostics, [], 'golden inputs must be schema-valid');
      const discoveredUrl = new URL(`${name}.discovered.yaml`, dir);
      const entries = existsSync(discoveredUrl)
        ? (parse(readFileSync(discoveredUrl, 'utf8')) as DiscoveredEntry[])
        : [];
      const result = await compileCase(resources, entries);
      // Pure and deterministic.
      assert.deepEqual(await compileCase(resources, entries), result);

      const { docs } = result.snapshot;
      const merged = mergedDocument(docs);
      await assertValid(`${name}: merged`, merged.document);
      for (const api of docs.apis) {
        await assertValid(`${name}: ${api.ref}`, apiDocument(docs, api));
        for (const v of api.versions)
          await assertValid(`${name}: ${api.ref} ${v.name}`, versionDocument(docs, api, v.name));
      }
      const printable = {
        tasks: docs.tasks.map((t) => t.key),
        statuses: result.statuses
          .filter((s) => s.ref.startsWith('ModelAPI/'))
          .map((s) => ({
            ref: s.ref,
            conditions: s.conditions.filter((c) => c.type === 'Documented' || c.status !== 'True'),
            versions: ((s.fields?.versions as { name: string; docs?: unknown }[] | undefined) ?? []).map((v) => ({
              name: v.name,
              docs: v.docs,
            })),
            docs: s.fields?.docs,
          })),
        merged: merged.document,
      };
      const actual = stringify(printable, { lineWidth: 0, aliasDuplicateObjects: false });
      const outUrl = new URL(`${name}.out.yaml`, dir);
      if (update) writeFileSync(outUrl, actual);
      assert.equal(actual, readFileSync(outUrl, 'utf8'), `${name}: run UPDATE_GOLDEN=1 npm test and review the diff`);
    });
  }
});
