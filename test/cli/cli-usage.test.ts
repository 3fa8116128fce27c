/**
 * The command line's manners, verb by verb: `--help` prints that verb's usage (exit 0); every mistake in the command
 * line is one line on stderr and exit 2; what the arguments name but cannot be used (a port in use, a directory that
 * is not there, an unreadable kubeconfig) is one line and exit 1; an old Node is told what to install. Run against the
 * built executable, as users run it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../../scripts/build.ts';
import { nodeVersionProblem, REQUIRED_NODE_MAJOR } from '../../src/cli/node-version.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const entry = ensureBuilt();
const VERSION = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

function modelgate(...args: string[]) {
  const run = spawnSync(process.execPath, [entry, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, MODELGATE_LOG_LEVEL: 'silent', KUBECONFIG: '/nonexistent/kubeconfig' },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** One line on stderr, nothing on stdout, the exit code, and no stack trace. */
function oneLine(run: ReturnType<typeof modelgate>, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, `exit code (stderr: ${run.stderr})`);
  assert.equal(run.stdout, '');
  assert.equal(run.stderr.trimEnd().split('\n').length, 1, `one line: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /\n\s+at |Error:/);
  assert.match(run.stderr.trimEnd(), pattern);
}

const VERBS = ['serve', 'validate', 'docs', 'diff'] as const;

describe('modelgate command line', () => {
  it('--version and --help', () => {
    assert.deepEqual(modelgate('--version'), { code: 0, stdout: `modelgate ${VERSION}\n`, stderr: '' });
    const help = modelgate('--help');
    assert.equal(help.code, 0);
    for (const verb of VERBS) assert.match(help.stdout, new RegExp(`^  ${verb} `, 'm'));
    const none = modelgate();
    assert.equal(none.code, 2, 'no command is a usage error');
    assert.match(none.stderr, /^usage: modelgate <command>/);
    oneLine(modelgate('bogus'), 2, /^modelgate: unknown command "bogus"/);
  });

  for (const verb of VERBS) {
    it(`${verb} --help prints its own usage; ${verb} --bogus is one line and exit 2`, () => {
      for (const flag of ['--help', '-h']) {
        const help = modelgate(verb, flag);
        assert.equal(help.code, 0);
        assert.match(help.stdout, new RegExp(`^usage: modelgate ${verb} `));
        for (const other of VERBS.filter((v) => v !== verb))
          assert.doesNotMatch(help.stdout, new RegExp(`modelgate ${other}`));
      }
      assert.equal(modelgate('help', verb).stdout, modelgate(verb, '--help').stdout);
      oneLine(
        modelgate(verb, '--bogus'),
        2,
        new RegExp(`^modelgate ${verb}: unknown option --bogus \\(modelgate ${verb} --help\\)$`),
      );
    });
  }

  const usageErrors: [string, string[], RegExp][] = [
    [
      'serve: a port that is not a number',
      ['serve', '--config', '.', '--port', 'abc'],
      /--port must be a port number from 0 to 65535, not "abc"/,
    ],
    [
      'serve: a port out of range',
      ['serve', '--config', '.', '--admin-port', '70000'],
      /--admin-port must be a port number/,
    ],
    ['serve: an option without its value', ['serve', '--config'], /option --config needs a value/],
    ['serve: a value to a switch', ['serve', '--kube=yes'], /option --kube takes no value/],
    ['serve: neither mode', ['serve'], /needs --config DIR or --kube/],
    ['serve: both modes', ['serve', '--config', '.', '--kube'], /two modes/],
    [
      'serve: --kubeconfig in file mode',
      ['serve', '--config', '.', '--kubeconfig', 'k'],
      /--kubeconfig applies to --kube only/,
    ],
    ['serve: workers', ['serve', '--config', '.', '--workers', '1.5'], /--workers must be a positive integer or auto/],
    ['serve: a positional argument', ['serve', 'dir'], /unexpected argument "dir"/],
    [
      'serve: a relative public URL',
      ['serve', '--config', '.', '--public-url', 'docs'],
      /--public-url must be an absolute URL/,
    ],
    [
      'serve: a malformed --gateway',
      ['serve', '--config', '.', '--gateway', 'gw'],
      /--gateway must be NAMESPACE\/NAME/,
    ],
    ['validate: no directory', ['validate'], /missing DIR/],
    ['validate: two directories', ['validate', 'a', 'b'], /unexpected argument "b"/],
    ['docs: an unknown format', ['docs', '.', '--format', 'xml'], /--format must be one of json, yaml, not "xml"/],
    ['docs: --version without --api', ['docs', '.', '--version', 'v1'], /--version needs --api/],
    ['docs: a malformed --api', ['docs', '.', '--api', 'iris'], /--api must be NAMESPACE\/NAME/],
    ['diff: one document', ['diff', 'a.json'], /missing NEW/],
    ['diff: three documents', ['diff', 'a', 'b', 'c'], /unexpected argument "c"/],
    ['diff: an unknown format', ['diff', 'a', 'b', '--format', 'pdf'], /--format must be one of text, json, markdown/],
    ['diff: an unknown threshold', ['diff', 'a', 'b', '--fail-on', 'big'], /--fail-on must be one of/],
  ];
  for (const [name, args, pattern] of usageErrors)
    it(`usage error, exit 2: ${name}`, () =>
      oneLine(modelgate(...args), 2, new RegExp(`^modelgate ${args[0]}: .*${pattern.source}`)));

  describe('what the arguments name cannot be used: one line, exit 1', () => {
    let busy: Server;
    let busyPort: number;
    before(async () => {
      busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      busyPort = (busy.address() as { port: number }).port;
    });
    after(() => new Promise<void>((resolve) => busy.close(() => resolve())));

    it('a port in use (data plane or admin)', () => {
      const config = 'examples/demo/config';
      oneLine(
        modelgate('serve', '--config', config, '--port', String(busyPort), '--admin-port', '0'),
        1,
        new RegExp(`^modelgate serve: cannot listen on 127\\.0\\.0\\.1:${busyPort}: the address is in use$`),
      );
      oneLine(
        modelgate('serve', '--config', config, '--port', '0', '--admin-port', String(busyPort)),
        1,
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busyPort}: the address is in use$`),
      );
    });

    it('a --config directory that is not there, or is a file', () => {
      oneLine(
        modelgate('serve', '--config', '/nonexistent/modelgate'),
        1,
        /^modelgate serve: --config \/nonexistent\/modelgate: no such directory$/,
      );
      oneLine(modelgate('serve', '--config', 'package.json'), 1, /--config package\.json: not a directory$/);
      oneLine(
        modelgate('validate', '/nonexistent/modelgate'),
        1,
        /^modelgate validate: \/nonexistent\/modelgate: no such directory$/,
      );
      oneLine(
        modelgate('docs', '/nonexistent/modelgate'),
        1,
        /^modelgate docs: \/nonexistent\/modelgate: no such directory$/,
      );
    });

    it('an unreadable or empty kubeconfig', () => {
      oneLine(
        modelgate('serve', '--kube', '--kubeconfig', '/nonexistent/kubeconfig'),
        1,
        /^modelgate serve: --kubeconfig \/nonexistent\/kubeconfig: cannot read it: ENOENT/,
      );
      const dir = mkdtempSync(join(tmpdir(), 'modelgate-kubeconfig-'));
      writeFileSync(join(dir, 'garbage'), 'clusters: [unclosed\n');
      oneLine(
        modelgate('serve', '--kube', '--kubeconfig', join(dir, 'garbage')),
        1,
        /--kubeconfig .*garbage: cannot read it: /,
      );
      writeFileSync(join(dir, 'empty'), 'apiVersion: v1\nkind: Config\n');
      oneLine(
        modelgate('serve', '--kube', '--kubeconfig', join(dir, 'empty')),
        1,
        /empty: its current context names no cluster$/,
      );
    });

    it('a document diff cannot read is exit 2 (could not compare), in one line', () => {
      oneLine(modelgate('diff', '/nonexistent/a.json', 'package.json'), 2, /^modelgate diff: /);
    });
  });

  describe('the Node version', () => {
    it('is checked before anything loads, naming what to install', () => {
      assert.equal(nodeVersionProblem(process.versions.node, process.execPath), undefined);
      assert.equal(nodeVersionProblem(`${REQUIRED_NODE_MAJOR}.0.0`, 'node'), undefined);
      const old = nodeVersionProblem('20.11.1', '/usr/bin/node');
      assert.match(
        old ?? '',
        /^modelgate needs Node\.js 24 or newer; this is Node\.js 20\.11\.1 \(\/usr\/bin\/node\)\./,
      );
      assert.match(old ?? '', /Install Node\.js 24/);
      // The entry point imports nothing but the check before it passes (an older Node fails inside undici otherwise).
      const source = readFileSync(join(root, 'src/cli.ts'), 'utf8');
      const staticImports = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
      assert.deepEqual(staticImports, ['./cli/node-version.ts']);
      assert.ok(source.indexOf('nodeVersionProblem(') < source.indexOf("await import('./cli/main.ts')"));
    });

    it('an older Node, where one is installed, gets the message and exit 1', (t) => {
      const older = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => {
        const v = spawnSync(p, ['--version'], { encoding: 'utf8' });
        return v.status === 0 && Number(v.stdout.slice(1).split('.')[0]) < REQUIRED_NODE_MAJOR;
      });
      if (!older) return t.skip('no Node older than 24 on this machine (the check itself is tested above)');
      const run = spawnSync(older, [entry, '--help'], { encoding: 'utf8' });
      assert.equal(run.status, 1);
      assert.match(run.stderr, /^modelgate needs Node\.js 24 or newer; this is Node\.js \d+/);
    });
  });
});
