import { diffDocuments } from '../changes/diff.ts';
import { type ChangeFormat, formatChanges } from '../changes/format.ts';
import { atLeast, type ChangeLevel } from '../changes/rules.ts';
import { loadDocument } from '../openapi/load-document.ts';
import type { Command } from './command.ts';
import { choiceOption, parseVerbArgs } from './usage-error.ts';

const usage = `usage: modelgate diff OLD NEW [--format text|json|markdown] [--fail-on breaking|potentially-breaking|non-breaking|any]

Compares two OpenAPI documents (files or URLs, JSON or YAML, 3.x or Swagger 2.0) operation by operation (rules:
docs/changes.md). Exit 0 when nothing at or above --fail-on changed, 1 when something did, 2 when a document cannot
be read or the command line is wrong.
`;

export const diffCommand: Command = {
  name: 'diff',
  summary: 'compares two OpenAPI documents and classifies every change',
  usage,
  async run(args) {
    const { values, positionals } = parseVerbArgs(
      args,
      { format: { type: 'string' }, 'fail-on': { type: 'string' } },
      { names: ['OLD', 'NEW'], required: 2 },
    );
    if (values.help) {
      process.stdout.write(usage);
      return 0;
    }
    const format: ChangeFormat = choiceOption('format', values.format, ['text', 'json', 'markdown'] as const) ?? 'text';
    const failOn = choiceOption('fail-on', values['fail-on'], [
      'breaking',
      'potentially-breaking',
      'non-breaking',
      'any',
    ] as const);
    const [before, after] = positionals as [string, string];
    let documents: [Record<string, unknown>, Record<string, unknown>];
    try {
      documents = await Promise.all([loadDocument(before), loadDocument(after)]);
    } catch (err) {
      // Exit 2 like a usage error: the result is "could not compare", which --fail-on must not read as "no change".
      process.stderr.write(`modelgate diff: ${(err as Error).message.split('\n')[0]}\n`);
      return 2;
    }
    const changes = diffDocuments(...documents);
    process.stdout.write(formatChanges(changes, format));
    if (failOn === undefined) return 0;
    const threshold: ChangeLevel = failOn === 'any' ? 'non-breaking' : failOn;
    return changes.some((c) => atLeast(c.level, threshold)) ? 1 : 0;
  },
};
