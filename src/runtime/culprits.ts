/**
 * Finds the ModelAPIs and HTTPRoutes a configuration cannot be built with — an unforeseen defect, not a refusal of the
 * gate — by bisection: one at a time, the shortest prefix of the remaining candidates whose removal lets it build
 * names the next culprit; at most 8. None when leaving every candidate out does not help either (then the problem is
 * not any one resource's). `builds(without)` compiles and trial-builds without the resources of `without`.
 */
import type { ResourceSet } from '../resources/types.ts';

export function findCulprits(resources: ResourceSet, builds: (without: ReadonlySet<string>) => boolean): string[] {
  const refs = [
    ...resources.modelApis.map((r) => `ModelAPI/${r.metadata.namespace ?? 'default'}/${r.metadata.name}`),
    ...resources.httpRoutes.map((r) => `HTTPRoute/${r.metadata.namespace ?? 'default'}/${r.metadata.name}`),
  ];
  const culprits: string[] = [];
  if (!builds(new Set(refs))) return culprits;
  let remaining = refs;
  while (culprits.length < 8 && !builds(new Set(culprits))) {
    // Without culprits + remaining it builds: find the shortest prefix of `remaining` whose removal suffices.
    let lo = 1;
    let hi = remaining.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (builds(new Set([...culprits, ...remaining.slice(0, mid)]))) hi = mid;
      else lo = mid + 1;
    }
    // Leaving out the first lo - 1 is not enough, the first lo is: the lo-th is to blame.
    culprits.push(remaining[lo - 1]!);
    remaining = remaining.filter((_, i) => i !== lo - 1);
  }
  return culprits;
}
