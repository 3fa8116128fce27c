/**
 * The folder tree is the pipeline, and imports only go down it. Each stage (a folder of src/) lists the stages it
 * may import from; every import of every source file — static, dynamic and type-only — is read and checked. A new
 * stage must be added here (an unknown folder fails), and an upward import fails with the file that makes it. The
 * last test proves the check is not blind: an upward import added to a copy of a real file is caught.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * Bottom to top. A stage may import from itself and the stages it names (not transitively: each is listed).
 *   common, errors      helpers and the error catalog every stage may use
 *   schema              the one schema of the resources (types, CRDs, validation)
 *   observability       logger and metrics
 *   resources           resources as read: sets, diagnostics, statuses
 *   openapi             the OpenAPI toolkit: walk, normalise to 3.1, Swagger 2 conversion, merge, load
 *   snapshot            what the compiler hands the planes (and the docs tasks it hands the spec fetcher)
 *   protocols           one definition per protocol (routes, rewrite, probe, discovery, synthesis, rebase)
 *   changes             the diff engine and revisions
 *   net                 listeners
 *   sources             where resources and upstream documents come from: files, Kubernetes, the spec fetcher
 *   compiler            resources (+ what was discovered) → snapshot; the docs pass in compiler/docs
 *   docsplane           publication, the portal, changelog pages
 *   dataplane           traffic
 *   admin               the admin listener
 *   runtime             reload runner, the document worker, Kubernetes mode's writers
 *   cli                 the command line
 *
 * src/policies/ is a home per traffic policy rather than a stage: a policy's folder holds its compile step and its
 * request phase side by side. Its files take the stage of what they are — `compile*.ts` the compiler's, every other
 * file the data plane's — so a compile step cannot reach into request code and the compiler can import the compile
 * table, the data plane the phase table.
 */
export const RULES: Record<string, readonly string[]> = {
  common: [],
  errors: ['common'],
  schema: ['common', 'errors'],
  observability: ['common'],
  resources: ['common', 'schema'],
  openapi: ['common', 'errors'],
  snapshot: ['common', 'schema', 'openapi'],
  protocols: ['common', 'schema', 'openapi', 'snapshot'],
  changes: ['common', 'openapi'],
  net: ['common', 'snapshot'],
  sources: ['common', 'schema', 'resources', 'openapi', 'snapshot', 'observability'],
  compiler: ['common', 'errors', 'schema', 'resources', 'openapi', 'snapshot', 'protocols'],
  docsplane: ['common', 'errors', 'openapi', 'snapshot', 'changes'],
  dataplane: ['common', 'errors', 'openapi', 'snapshot', 'protocols', 'changes', 'net', 'observability', 'docsplane'],
  admin: ['common', 'observability'],
  runtime: [
    'common',
    'errors',
    'schema',
    'observability',
    'resources',
    'openapi',
    'snapshot',
    'protocols',
    'changes',
    'net',
    'sources',
    'compiler',
    'docsplane',
    'dataplane',
    'admin',
  ],
  // The command line may use what the runtime uses (but not the data plane or the admin listener directly).
  get cli() {
    return [...RULES.runtime!.filter((s) => s !== 'dataplane' && s !== 'admin' && s !== 'net'), 'runtime'];
  },
  types: [],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** The stage of a file under src/ (`cli.ts` at the top belongs to the cli; policies/ by file, see above). */
function stageOf(file: string): string {
  const rel = relative(src, file);
  if (!rel.includes('/')) return 'cli';
  const top = rel.split('/')[0]!;
  if (top === 'policies') return basename(rel).startsWith('compile') ? 'compiler' : 'dataplane';
  return top;
}

/** Upward imports in `text` (a file at `file`): `from → to` lines. */
export function violations(file: string, text: string): string[] {
  const from = stageOf(file);
  const allowed = RULES[from];
  if (!allowed) return [`${relative(src, file)}: stage ${from} is not in the rule table`];
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const target = normalize(join(dirname(file), m[1] ?? m[2]!));
    if (!target.startsWith(src)) continue;
    const to = stageOf(target);
    if (to !== from && !allowed.includes(to))
      out.push(`${relative(src, file)} imports ${relative(src, target)} (${from} → ${to})`);
  }
  return out;
}

describe('imports go down the pipeline', () => {
  it('every stage is in the rule table, and no file imports from a stage it may not', () => {
    const problems = sourceFiles(src).flatMap((f) => violations(f, readFileSync(f, 'utf8')));
    assert.deepEqual(problems, []);
  });

  it('catches an upward import (the check is not blind)', () => {
    const file = join(src, 'snapshot/types.ts');
    const text = readFileSync(file, 'utf8');
    assert.deepEqual(violations(file, text), []);
    for (const line of [
      "import type { DocsSite } from '../docsplane/docs-site.ts';",
      "export { compileSnapshot } from '../compiler/compile.ts';",
      "const m = await import('../runtime/file-gateway.ts');",
      "import {\n  FileGateway,\n} from '../runtime/file-gateway.ts';",
    ])
      assert.equal(violations(file, `${line}\n${text}`).length, 1, line);
  });

  it('in a policy folder, the compile step cannot import its request phase, nor the compile table the phase table', () => {
    for (const [file, line] of [
      ['policies/cors/compile.ts', "import { corsPhase } from './request.ts';"],
      ['policies/compile-steps.ts', "import { REQUEST_PHASES } from './request-phases.ts';"],
      ['compiler/policies.ts', "import { NEXT } from '../policies/phase.ts';"],
    ] as const) {
      const path = join(src, file);
      const text = readFileSync(path, 'utf8');
      assert.deepEqual(violations(path, text), [], file);
      assert.equal(violations(path, `${line}\n${text}`).length, 1, `${file}: ${line}`);
    }
  });
});
