/**
 * `npm run build`: dist/ — the gateway's sources as plain JavaScript (types erased by the TypeScript compiler,
 * relative imports rewritten to .js) and the portal's static files beside them. Every launcher of the gateway process
 * (the `bin`, the container, the demo, the benchmark, the conformance runner) starts dist/cli.js.
 *
 * Why not let Node strip the types at start, as the tests do: the stripper is a WebAssembly module that stays in
 * memory for the life of the process, with the TypeScript sources — measured here, 27 MB of the resident memory of
 * every gateway process (137 MB instead of 164 MB for a small configuration). Types are checked by `npm run
 * typecheck`, not here (`noCheck`): the build only erases them.
 *
 * Nothing to do when dist/ is newer than every source file, so launchers call it before each start.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');
const stamp = join(dist, '.built');
const config = join(root, 'tsconfig.build.json');

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** What the stamp records: the source files the build was made from (a deleted source means a rebuild too). */
function listing(sources: readonly string[]): string {
  return `${sources
    .map((f) => relative(src, f))
    .sort()
    .join('\n')}\n`;
}

/** Whether dist/ was built from these very files, after their last change (and the build settings'). */
function upToDate(sources: readonly string[]): boolean {
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== listing(sources)) return false;
  const built = statSync(stamp).mtimeMs;
  return [...sources, config].every((f) => statSync(f).mtimeMs <= built);
}

/** Builds dist/ unless it is up to date; returns the entry point. Throws with the compiler's output on failure. */
export function ensureBuilt(): string {
  const sources = filesBelow(src);
  if (upToDate(sources)) return join(dist, 'cli.js');
  rmSync(dist, { recursive: true, force: true });
  let tsc: string;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    throw new Error(
      'building dist/ needs the typescript devDependency: install without --omit=dev, then npm run build',
    );
  }
  const result = spawnSync(process.execPath, [tsc, '-p', config], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`build failed:\n${result.stdout}${result.stderr}`);
  // The compiler emits JavaScript only; what the sources read from beside themselves (portal CSS/JS) is copied.
  for (const file of sources.filter((f) => !f.endsWith('.ts'))) cpSync(file, join(dist, relative(src, file)));
  writeFileSync(stamp, listing(sources));
  return join(dist, 'cli.js');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const entry = ensureBuilt();
  if (!process.argv.includes('--quiet'))
    process.stdout.write(`${relative(root, entry)} ready (${(performance.now() - started).toFixed(0)} ms)\n`);
}
