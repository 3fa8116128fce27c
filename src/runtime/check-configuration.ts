/**
 * What `modelgate validate` says about a configuration, decided by the same steps `serve` takes on every reload: the
 * source's diagnostics (parse, schema, semantic checks), the compile, and the snapshot gate. What serve refuses (a
 * change it would not apply, a resource it would not serve) is an error here; what serve serves with a condition
 * not True (a missing Service, an unreachable document) is a warning.
 */
import { compileSnapshot } from '../compiler/compile.ts';
import { snapshotProblems } from '../compiler/snapshot-gate.ts';
import { type Diagnostic, hasErrors } from '../resources/diagnostics.ts';
import type { SourceLocation } from '../resources/types.ts';
import type { SourceLoad } from '../sources/resource-source.ts';

/** Condition reasons that mean the resource itself is wrong (serve leaves it out), not its surroundings. */
const REFUSED = new Set(['Invalid', 'UnsupportedValue']);

export interface ConfigurationVerdict {
  readonly diagnostics: readonly Diagnostic[];
  /** ModelAPIs that would be served. */
  readonly servedApis: number;
}

/** The verdict on a loaded configuration; `strict` makes warnings (kinds modelgate does not read…) errors. */
export function checkConfiguration(load: SourceLoad, options: { strict?: boolean } = {}): ConfigurationVerdict {
  const diagnostics: Diagnostic[] = load.diagnostics.map((d) =>
    options.strict && d.severity === 'warning' ? { ...d, severity: 'error' as const } : d,
  );
  if (hasErrors(diagnostics)) return { diagnostics, servedApis: 0 };
  const { snapshot, statuses } = compileSnapshot(load.resources);
  diagnostics.push(...gateDiagnostics(snapshotProblems(snapshot), load.locations));
  for (const s of statuses) {
    const location = load.locations?.get(s.ref);
    for (const c of s.conditions) {
      if (c.status === 'True') continue;
      diagnostics.push({
        severity: REFUSED.has(c.reason) ? 'error' : 'warning',
        message: `${c.type}=${c.status} (${c.reason}): ${c.message}`,
        field: '',
        object: s.ref,
        ...(location ? { location } : {}),
      });
    }
  }
  return { diagnostics, servedApis: snapshot.apis.length };
}

/** The gate's problems as diagnostics, at the place in the files where each resource was read. */
export function gateDiagnostics(
  problems: readonly { ref: string; message: string }[],
  locations?: ReadonlyMap<string, SourceLocation>,
): Diagnostic[] {
  return problems.map((p) => {
    const location = locations?.get(p.ref);
    return { severity: 'error', message: p.message, field: '', object: p.ref, ...(location ? { location } : {}) };
  });
}
