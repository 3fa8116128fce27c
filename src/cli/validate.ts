import { formatDiagnostic } from '../resources/diagnostics.ts';
import { checkConfiguration } from '../runtime/check-configuration.ts';
import { loadDirectory } from '../sources/load-directory.ts';
import type { Command } from './command.ts';
import { existingDirectory } from './directory-argument.ts';
import { parseVerbArgs } from './usage-error.ts';

const usage = `usage: modelgate validate DIR [--strict]

Decides as serve does and prints its diagnostics (file:line:column: severity: object: field: message).
Exit 0 when serve would accept DIR, 1 for anything it would refuse (--strict: for warnings too, such as kinds
modelgate does not read), 2 for a mistake in the command line.
`;

export const validateCommand: Command = {
  name: 'validate',
  summary: 'checks a configuration directory exactly as serve would',
  usage,
  async run(args) {
    const { values, positionals } = parseVerbArgs(
      args,
      { strict: { type: 'boolean' } },
      { names: ['DIR'], required: 1 },
    );
    if (values.help) {
      process.stdout.write(usage);
      return 0;
    }
    const dir = existingDirectory(positionals[0]!, '');
    const verdict = checkConfiguration(await loadDirectory(dir), { strict: values.strict === true });
    for (const d of verdict.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
    const errors = verdict.diagnostics.filter((d) => d.severity === 'error').length;
    if (errors > 0) {
      process.stderr.write(`${errors} error(s)\n`);
      return 1;
    }
    const warnings = verdict.diagnostics.length;
    process.stdout.write(
      `${dir}: ${verdict.servedApis} ModelAPI(s) valid${warnings > 0 ? `, ${warnings} warning(s)` : ''}\n`,
    );
    return 0;
  },
};
