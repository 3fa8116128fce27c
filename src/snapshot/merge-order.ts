import type { MergePart } from '../openapi/merge.ts';
import type { DocsPlane } from './types.ts';

/**
 * The parts of the merged document in claim order: on a conflict the longer public prefix wins, as it does in
 * routing; among equals the older API (the plane lists APIs oldest first).
 */
export function mergeOrder(plane: DocsPlane): MergePart[] {
  return plane.apis
    .filter((api) => !api.hidden)
    .map((api, i) => ({ api, i }))
    .sort((a, b) => b.api.pathPrefix.length - a.api.pathPrefix.length || a.i - b.i)
    .flatMap(({ api }) => api.parts)
    .concat(plane.routeParts);
}
