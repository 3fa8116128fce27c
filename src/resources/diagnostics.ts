/** Configuration diagnostics: what is wrong, in which file, at which line, column and field. */
import type { SourceLocation } from './types.ts';

/** One problem found while reading or validating configuration. */
export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** Field path inside the object, e.g. `spec.versions[0].backend`; empty for file-level problems. */
  readonly field: string;
  /** `Kind/namespace/name` of the object, when known. */
  readonly object?: string;
  readonly location?: SourceLocation;
}

/** JSON pointer `/spec/versions/0/backend` → field path `spec.versions[0].backend`. */
export function pointerToFieldPath(pointer: string): string {
  if (pointer === '' || pointer === '/') return '';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** `file:line:column: error: Kind/ns/name: field: message` — the format editors and CI logs understand. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.location ? `${d.location.file}:${d.location.line}:${d.location.column}: ` : '';
  const object = d.object ? `${d.object}: ` : '';
  const field = d.field ? `${d.field}: ` : '';
  return `${where}${d.severity}: ${object}${field}${d.message}`;
}

/** True when any diagnostic is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
