/** Renders the configuration reference (docs/reference.md) from the same schemas as the CRDs and the validator. */
import type { TSchema } from '@sinclair/typebox';
import { KINDS } from './kinds.ts';

type Json = Record<string, unknown>;

function typeOf(s: Json): string {
  if (s['x-kubernetes-int-or-string']) return 'int or string';
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map((v) => `\`${String(v)}\``).join(' | ');
  if (s.const !== undefined) return `\`${String(s.const)}\``;
  if (s.type === 'array') return `${typeOf((s.items ?? {}) as Json)}[]`;
  if (s.patternProperties) return 'map of string';
  return String(s.type ?? 'object');
}

function constraints(s: Json): string {
  const parts: string[] = [];
  if (s.pattern) parts.push(`pattern \`${String(s.pattern)}\``);
  if (s.minimum !== undefined) parts.push(`≥ ${String(s.minimum)}`);
  if (s.maximum !== undefined) parts.push(`≤ ${String(s.maximum)}`);
  if (s.minItems !== undefined) parts.push(`at least ${String(s.minItems)} item(s)`);
  if (s.maxItems !== undefined) parts.push(`at most ${String(s.maxItems)} items`);
  return parts.join(', ');
}

function rows(schema: Json, path: string, required: boolean, out: string[]): void {
  if (path) {
    const desc = [schema.description, constraints(schema)].filter(Boolean).join(' ');
    const cell = (text: string) => text.replace(/\n/g, ' ').replace(/\|/g, '\\|');
    out.push(`| \`${path}\` | ${cell(typeOf(schema))} | ${required ? 'yes' : ''} | ${cell(desc)} |`);
  }
  const target = (schema.type === 'array' ? schema.items : schema) as Json | undefined;
  const props = target?.properties as Record<string, Json> | undefined;
  if (!props) return;
  const req = new Set((target?.required as string[] | undefined) ?? []);
  for (const [name, child] of Object.entries(props)) {
    rows(child, `${path}${path ? (schema.type === 'array' ? '[].' : '.') : ''}${name}`, req.has(name), out);
  }
}

/** The Markdown reference of every modelgate kind's spec. */
export function renderReference(): string {
  const out = [
    '# Configuration reference',
    '',
    '<!-- generated from src/schema by `npm run generate`; do not edit -->',
    '',
    'Every field of the modelgate resources (`modelgate.dev/v1alpha1`). The same schemas produce the CRDs in',
    '`deploy/crds/` and the validator that checks files in file mode. Durations are Gateway API durations such as',
    '`500ms`, `30s` or `1m30s`.',
  ];
  for (const kind of KINDS.filter((k) => k.crd)) {
    const spec = ((kind.schema as TSchema as Json).properties as Record<string, Json>).spec!;
    out.push('', `## ${kind.kind}`, '', '| field | type | required | description |', '| --- | --- | --- | --- |');
    const body: string[] = [];
    rows(spec, 'spec', true, body);
    out.push(...body.slice(1));
  }
  return `${out.join('\n')}\n`;
}
