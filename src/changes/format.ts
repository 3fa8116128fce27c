/** Renders a list of API changes for people (text, Markdown) and machines (JSON). */
import { type ApiChange, CHANGE_RULES, type ChangeLevel } from './rules.ts';

/** Output formats of `modelgate diff`. */
export type ChangeFormat = 'text' | 'json' | 'markdown';

const LABEL: Record<ChangeLevel, string> = {
  breaking: 'BREAKING',
  'potentially-breaking': 'POTENTIALLY BREAKING',
  'non-breaking': 'non-breaking',
};

/** Counts per level. */
export function summarize(changes: readonly ApiChange[]): Record<ChangeLevel, number> {
  const counts: Record<ChangeLevel, number> = { breaking: 0, 'potentially-breaking': 0, 'non-breaking': 0 };
  for (const c of changes) counts[c.level]++;
  return counts;
}

/** The changes in `format`. */
export function formatChanges(changes: readonly ApiChange[], format: ChangeFormat): string {
  const counts = summarize(changes);
  if (format === 'json') return `${JSON.stringify({ summary: counts, changes }, null, 2)}\n`;
  const headline = `${changes.length} change(s): ${counts.breaking} breaking, ${counts['potentially-breaking']} potentially breaking, ${counts['non-breaking']} non-breaking`;
  if (format === 'markdown') {
    if (changes.length === 0) return 'No changes.\n';
    const rows = changes.map(
      (c) =>
        `| ${c.level === 'breaking' ? '**breaking**' : c.level} | \`${c.rule}\` | ${escapeCell(c.operation ?? '')} | ${escapeCell(c.message)} | \`${escapeCell(c.pointer)}\` |`,
    );
    return `${headline}\n\n| level | rule | operation | change | where |\n| --- | --- | --- | --- | --- |\n${rows.join('\n')}\n`;
  }
  if (changes.length === 0) return 'no changes\n';
  const lines = changes.map(
    (c) =>
      `${LABEL[c.level].padEnd(21)} ${c.rule.padEnd(34)} ${c.operation ? `${c.operation}: ` : ''}${c.message}\n${' '.repeat(22)}at ${c.pointer}`,
  );
  return `${lines.join('\n')}\n${headline}\n`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The rule catalog as Markdown (docs/changes.md). */
export function rulesMarkdown(): string {
  const rows = Object.entries(CHANGE_RULES).map(([id, r]) => `| \`${id}\` | ${r.level} | ${r.doc} |`);
  return `# API change rules

<!-- Generated from src/changes/rules.ts by \`npm run generate\`; do not edit. -->

Every change \`modelgate diff\`, the changelog and the migration view report names one of these rules. Ids are
stable: match on them in CI.

| rule | level | meaning |
| --- | --- | --- |
${rows.join('\n')}
`;
}
