/**
 * File mode never loads the Kubernetes client library (tens of MB of heap): the command line imports it only for
 * `serve --kube`. Checked with a module-resolution hook in a child process running the CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Reports every package the process resolves on stderr.
const hook = `data:text/javascript,${encodeURIComponent(
  "import { registerHooks } from 'node:module'; registerHooks({ resolve(s, c, next) { process.stderr.write(`resolved ${s}\\n`); return next(s, c); } });",
)}`;
const resolvedBy = (args: string[]) =>
  spawnSync(process.execPath, ['--import', hook, 'src/cli.ts', ...args], { cwd: root, encoding: 'utf8' }).stderr;

describe('Kubernetes client loading', () => {
  it('is not loaded in file mode, only for --kube', () => {
    assert.doesNotMatch(resolvedBy(['validate', 'examples/demo/config']), /resolved @kubernetes\/client-node/);
    // --kube with a kubeconfig that does not exist: the client is loaded, then the configuration fails.
    assert.match(
      resolvedBy(['serve', '--kube', '--kubeconfig', '/nonexistent/kubeconfig', '--port', '0', '--admin-port', '0']),
      /resolved @kubernetes\/client-node/,
    );
  });
});
