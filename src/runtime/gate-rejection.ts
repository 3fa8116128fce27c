/** What the snapshot gate refuses, and how the runtime reports it and leaves resources out. */

import type { GateProblem } from '../compiler/snapshot-gate.ts';
import type { Diagnostic } from '../resources/diagnostics.ts';
import { condition, type ResourceStatus } from '../resources/status.ts';
import type { ResourceSet, SourceLocation } from '../resources/types.ts';
import { gateDiagnostics } from './check-configuration.ts';

/** The snapshot gate refused a change: its problems, located in the files when they came from files. */
export class GateRejection extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(problems: readonly GateProblem[], locations?: ReadonlyMap<string, SourceLocation>) {
    super(problems.map((p) => `${p.ref}: ${p.message}`).join('; '));
    this.diagnostics = gateDiagnostics(problems, locations);
  }
}

/** Accepted=False for each resource the gate left out. */
export function gateStatuses(problems: readonly GateProblem[]): ResourceStatus[] {
  const byRef = new Map<string, string[]>();
  for (const p of problems) byRef.set(p.ref, [...(byRef.get(p.ref) ?? []), p.message]);
  return [...byRef].map(([ref, messages]) => ({
    ref,
    conditions: [condition('Accepted', 'False', 'Invalid', messages.join('; '))],
  }));
}

/** The resource set without the ModelAPIs and HTTPRoutes of `refs` (the kinds the gate blames by name). */
export function withoutRefs(resources: ResourceSet, refs: ReadonlySet<string>): ResourceSet {
  const keep = (kind: string) => (r: { metadata: { name: string; namespace?: string } }) =>
    !refs.has(`${kind}/${r.metadata.namespace ?? 'default'}/${r.metadata.name}`);
  return {
    ...resources,
    modelApis: resources.modelApis.filter(keep('ModelAPI')),
    httpRoutes: resources.httpRoutes.filter(keep('HTTPRoute')),
  };
}
