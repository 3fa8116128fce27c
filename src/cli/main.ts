/**
 * The modelgate command line: `serve`, `validate`, `docs` and `diff`, each in its own module with its own usage.
 * Mistakes in the command line are one line on stderr and exit 2; problems with what it names are one line and exit 1;
 * neither prints a stack trace (MODELGATE_DEBUG=1 adds it, for bug reports).
 */
import { readFileSync } from 'node:fs';
import type { Command } from './command.ts';
import { diffCommand } from './diff.ts';
import { docsCommand } from './docs.ts';
import { serveCommand } from './serve.ts';
import { StartError, UsageError } from './usage-error.ts';
import { validateCommand } from './validate.ts';

const COMMANDS: readonly Command[] = [serveCommand, validateCommand, docsCommand, diffCommand];

function overview(): string {
  return `usage: modelgate <command> [options]     (modelgate <command> --help for one command)

${COMMANDS.map((c) => `  ${c.name.padEnd(9)} ${c.summary}`).join('\n')}

  --version  prints the version
`;
}

/** The version in package.json (two levels up from both src/cli/ and dist/cli/). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(overview());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const command = COMMANDS.find((c) => c.name === rest[0]);
    process.stdout.write(command ? command.usage : overview());
    return 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`modelgate ${version()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(
      `modelgate: unknown command ${JSON.stringify(name)} (commands: ${COMMANDS.map((c) => c.name).join(', ')}; modelgate --help)\n`,
    );
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`modelgate ${command.name}: ${err.message} (modelgate ${command.name} --help)\n`);
      return 2;
    }
    if (err instanceof StartError) {
      process.stderr.write(`modelgate ${command.name}: ${err.message}\n`);
      // What a half-started gateway holds open (a listener, a watcher) must not keep the process alive.
      process.exit(1);
    }
    throw err;
  }
}

const debug = process.env.MODELGATE_DEBUG === '1';
main(process.argv.slice(2)).then(
  (code) => {
    // `serve` resolves only when it stops; a code of 0 from the others lets pending handles end the process.
    process.exitCode = code;
  },
  (err: Error) => {
    const line = (err.message || String(err)).split('\n')[0];
    process.stderr.write(`modelgate: ${line}\n${debug ? `${err.stack}\n` : ''}`);
    process.exit(1);
  },
);
