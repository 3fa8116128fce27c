#!/usr/bin/env -S node --max-semi-space-size=16 --heap-growing-percent=30
/**
 * The modelgate executable. The Node version is checked before anything else loads (the commands live in cli/, loaded
 * only once the check passed): on an older Node the first import of undici fails with an error about a missing
 * global that names no version.
 */
import { nodeVersionProblem } from './cli/node-version.ts';

const problem = nodeVersionProblem(process.versions.node, process.execPath);
if (problem) {
  process.stderr.write(problem);
  process.exit(1);
}
await import('./cli/main.ts');
