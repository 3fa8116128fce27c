/**
 * Operations a model team marked deprecated in its own document (`deprecated: true`, optionally `x-sunset`): their
 * answers announce it like a deprecated version's. Indexed per API version on the first request that needs it, from
 * the snapshot's published documents; an API without deprecated operations costs one map lookup per request.
 */
import { pathTemplatePattern } from '../openapi/openapi-walk.ts';
import type { DocsPlane } from '../snapshot/types.ts';

type Json = Record<string, unknown>;

/** A deprecated operation. */
export interface DeprecatedOperation {
  readonly method: string;
  readonly pattern: RegExp;
  /** Epoch ms of `x-sunset`, when given. */
  readonly sunsetMs?: number;
  readonly path: string;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The deprecated operations of one snapshot's documents. */
export class DeprecatedOperations {
  readonly #plane: DocsPlane;
  readonly #byVersion = new Map<string, readonly DeprecatedOperation[]>();
  /** The same lists by the rule backend that asks (no key to build on the hot path). */
  readonly #byBackend = new WeakMap<object, readonly DeprecatedOperation[]>();

  constructor(plane: DocsPlane) {
    this.#plane = plane;
  }

  /** The deprecated operation `method path` is, in the document of `version` of the API `ref`. */
  find(ref: string, version: string, method: string, path: string, asker: object): DeprecatedOperation | undefined {
    let list = this.#byBackend.get(asker);
    if (!list) {
      const key = `${ref}\0${version}`;
      list = this.#byVersion.get(key) ?? this.#index(ref, version);
      this.#byVersion.set(key, list);
      this.#byBackend.set(asker, list);
    }
    if (list.length === 0) return undefined;
    const api = this.#plane.apis.find((a) => a.ref === ref)!;
    const versionBase = `${api.pathPrefix}/versions/${version}`;
    const documentPath = path.startsWith(`${versionBase}/`) ? path : versionBase + path.slice(api.pathPrefix.length);
    const m = method.toLowerCase();
    return list.find((op) => op.method === m && op.pattern.test(documentPath));
  }

  #index(ref: string, version: string): readonly DeprecatedOperation[] {
    const api = this.#plane.apis.find((a) => a.ref === ref);
    const document = api?.versions.find((v) => v.name === version)?.part.document as Json | undefined;
    const paths = (document?.paths ?? {}) as Record<string, Json>;
    const out: DeprecatedOperation[] = [];
    for (const [path, item] of Object.entries(paths)) {
      for (const method of METHODS) {
        const op = item[method] as Json | undefined;
        // The gateway marks every operation of a deprecated version itself; those are announced per version.
        if (op?.deprecated !== true || api?.versions.find((v) => v.name === version)?.deprecated) continue;
        const sunset = typeof op['x-sunset'] === 'string' ? Date.parse(op['x-sunset']) : Number.NaN;
        out.push({
          method,
          path,
          pattern: pathTemplatePattern(path).pattern,
          ...(Number.isFinite(sunset) ? { sunsetMs: sunset } : {}),
        });
      }
    }
    return out;
  }
}
