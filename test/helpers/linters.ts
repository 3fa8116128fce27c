/**
 * The two independent OpenAPI linters the published documents are held against: Redocly (`recommended`) and Spectral
 * (`spectral:oas`), both run in-process from their npm packages (the same rules as their CLIs, without a process per
 * document).
 */
import { createConfig, lintFromString } from '@redocly/openapi-core';
import spectralCore from '@stoplight/spectral-core';
import spectralParsers from '@stoplight/spectral-parsers';
import spectralRulesets from '@stoplight/spectral-rulesets';

export interface LintProblem {
  readonly linter: 'redocly' | 'spectral';
  readonly severity: 'error' | 'warning' | 'info';
  readonly rule: string;
  readonly where: string;
  readonly message: string;
}

let redoclyConfig: Promise<Awaited<ReturnType<typeof createConfig>>> | undefined;

export async function redocly(document: unknown): Promise<LintProblem[]> {
  redoclyConfig ??= createConfig({ extends: ['recommended'] });
  const problems = await lintFromString({
    source: JSON.stringify(document),
    absoluteRef: '/published/openapi.json',
    config: await redoclyConfig,
  });
  return problems.map((p) => ({
    linter: 'redocly',
    severity: p.severity === 'error' ? 'error' : p.severity === 'warn' ? 'warning' : 'info',
    rule: p.ruleId,
    where: p.location[0]?.pointer ?? '',
    message: p.message,
  }));
}

let spectralInstance: InstanceType<typeof spectralCore.Spectral> | undefined;

export async function spectral(document: unknown): Promise<LintProblem[]> {
  if (!spectralInstance) {
    spectralInstance = new spectralCore.Spectral();
    spectralInstance.setRuleset({ extends: [[spectralRulesets.oas, 'recommended']] } as never);
  }
  const results = await spectralInstance.run(
    new spectralCore.Document(JSON.stringify(document, null, 1), spectralParsers.Json, '/published/openapi.json'),
  );
  return results.map((r) => ({
    linter: 'spectral',
    severity: r.severity === 0 ? 'error' : r.severity === 1 ? 'warning' : 'info',
    rule: String(r.code),
    where: `#/${r.path.map((s) => String(s).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`,
    message: r.message,
  }));
}

/** Both linters' findings on one document. */
export async function lintBoth(document: unknown): Promise<LintProblem[]> {
  return [...(await redocly(document)), ...(await spectral(document))];
}

/**
 * Warnings a published document may carry, each explained in docs/openapi-lint.md (the test of that page checks the
 * list and the page agree). Anything else — and every error — fails.
 */
export const EXPLAINED_WARNINGS: readonly string[] = [
  'redocly/info-license',
  'redocly/operation-4xx-response',
  'redocly/no-unused-components',
  'spectral/info-contact',
  'spectral/operation-description',
];

/**
 * Warnings about what an upstream wrote in its own schemas (overlapping `oneOf`s, `required` names without a property):
 * the gateway publishes upstream schemas as written, so these are allowed only outside the gateway's own
 * (`modelgate.*`) components.
 */
export const UPSTREAM_CONTENT_WARNINGS: readonly string[] = [
  'redocly/no-illogical-composition-keywords',
  'redocly/no-mixed-number-range-constraints',
  'redocly/no-required-schema-properties-undefined',
];

function explained(p: LintProblem): boolean {
  if (p.severity !== 'warning') return p.severity === 'info';
  const rule = `${p.linter}/${p.rule}`;
  if (EXPLAINED_WARNINGS.includes(rule)) return true;
  return UPSTREAM_CONTENT_WARNINGS.includes(rule) && !p.where.includes('/modelgate.');
}

/** Asserts `document` has no lint error and only explained warnings; returns the findings. */
export async function assertLintClean(document: unknown, label: string): Promise<LintProblem[]> {
  const problems = await lintBoth(document);
  const unexplained = problems.filter((p) => !explained(p));
  if (unexplained.length > 0) {
    const lines = unexplained
      .slice(0, 20)
      .map((p) => `${p.linter} ${p.severity} ${p.rule} at ${p.where}: ${p.message}`);
    throw new Error(`${label}: ${unexplained.length} lint finding(s) not allowed:\n${lines.join('\n')}`);
  }
  return problems;
}
