/**
 * The Node.js the executable needs. Checked by src/cli.ts before anything else is loaded: on an older Node the first
 * import of undici fails with an error about a missing global that says nothing about versions. No imports here, so
 * this module itself loads on any Node that can run ES modules.
 */
export const REQUIRED_NODE_MAJOR = 24;

/** A message saying what to install when `version` (process.versions.node) is too old, else undefined. */
export function nodeVersionProblem(version: string, execPath: string): string | undefined {
  const major = Number(version.split('.')[0]);
  if (major >= REQUIRED_NODE_MAJOR) return undefined;
  return (
    `modelgate needs Node.js ${REQUIRED_NODE_MAJOR} or newer; this is Node.js ${version} (${execPath}).\n` +
    `Install Node.js ${REQUIRED_NODE_MAJOR} (https://nodejs.org/en/download), or from a checkout run ` +
    '`npm ci && npm run modelgate -- …`, which uses the Node 24 the project brings.\n'
  );
}
