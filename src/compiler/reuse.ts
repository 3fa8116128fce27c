/**
 * What one compile may reuse from the ones before it: the compilation, docs and status of every ModelAPI whose
 * inputs are the same objects as last time (sources hand back the same object for an unchanged resource, in file and
 * Kubernetes mode). A reload of ten thousand APIs where one changed then compiles one — less time, far less garbage.
 *
 * It is state, so it is an object with an owner rather than module-level maps: the runtime keeps one for the life of
 * the gateway (runtime/file-gateway.ts); a compile given none starts from nothing, which is how the determinism check
 * and `validate` run. Keys are weak: the object holds no resource alive; results are immutable, so sharing them
 * between snapshots is safe.
 */

import type { ResourceStatus } from '../resources/status.ts';
import type { ModelAPI } from '../schema/model-api.ts';
import type { CompiledModelAPI } from './compile-model-api.ts';
import type { DocsStatus, DocumentedApis } from './docs/build-docs.ts';

export class CompileReuse {
  /** A ModelAPI's compilation and what it was made from. */
  readonly modelApis = new WeakMap<ModelAPI, { deps: readonly unknown[]; result: CompiledModelAPI }>();
  /** A ModelAPI's docs and what they were made from (the docs pass). */
  readonly documentedApis: DocumentedApis = new WeakMap();
  /** A status with the docs pass's verdict, the same object while both parts are. */
  readonly documentedStatuses = new WeakMap<DocsStatus, { plain: ResourceStatus; status: ResourceStatus }>();
  /** The public paths a compilation claims. */
  readonly claimKeys = new WeakMap<CompiledModelAPI, readonly { key: string; path: string }[]>();
  /** Whether a compilation collides with the portal's paths, per portal prefix. */
  readonly portalConflicts = new WeakMap<
    CompiledModelAPI,
    { prefix: string; conflict: { owner: string; path: string } | undefined }
  >();
  /** Status fields with the serving ModelGateway added, per gateway name. */
  readonly gatewayFields = new Map<string, WeakMap<object, Record<string, unknown>>>();
}
