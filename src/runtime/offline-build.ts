/**
 * Builds the published documents without a running gateway (`modelgate docs`): compile, carry out the docs tasks
 * (conversions always; fetches only when asked, from the resources' own backends), compile again until nothing new
 * is learnt. Used to publish the merged document from CI pipelines.
 */
import { type CompileResult, compileSnapshot } from '../compiler/compile.ts';
import { convertSwagger2 } from '../openapi/swagger2.ts';
import type { ResourceSet } from '../resources/types.ts';
import type { Discovered, DiscoveryResult } from '../snapshot/discovery.ts';
import { SpecFetcher } from '../sources/upstream-documents/spec-fetcher.ts';

/** Options of an offline build. */
export interface OfflineBuildOptions {
  /** Contact the backends named in the resources (as the gateway would); default false: nothing leaves the machine. */
  readonly fetch?: boolean;
  readonly publicURL?: string;
  readonly timeoutMs?: number;
}

/** Compiles until the discovered documents stop changing (at most a few rounds: tasks only depend on resources). */
export async function buildOffline(resources: ResourceSet, options: OfflineBuildOptions = {}): Promise<CompileResult> {
  const compile = (discovered: Discovered) =>
    compileSnapshot(resources, {
      discovered,
      ...(options.publicURL ? { defaultPublicURL: options.publicURL } : {}),
    });
  const discovered = new Map<string, DiscoveryResult>();
  const fetcher = options.fetch
    ? new SpecFetcher({ onChange: () => {}, timeoutMs: options.timeoutMs ?? 5000 })
    : undefined;
  try {
    let result = compile(discovered);
    for (let round = 0; round < 4; round++) {
      const before = discovered.size;
      for (const task of result.snapshot.docs.tasks) {
        if (discovered.has(task.key)) continue;
        if (task.kind === 'convert') {
          try {
            const body = await convertSwagger2(task.document);
            discovered.set(task.key, {
              last: {
                body,
                originalVersion: '2.0',
                sha256: '',
                fetchedAt: new Date().toISOString(),
                location: 'inline',
              },
            });
          } catch (err) {
            discovered.set(task.key, { error: (err as Error).message });
          }
        }
      }
      if (fetcher) {
        fetcher.update(result.snapshot.docs.tasks, result.snapshot.clusters);
        await fetcher.settle();
        for (const [key, value] of fetcher.discovered()) discovered.set(key, value);
      } else {
        for (const task of result.snapshot.docs.tasks)
          if (task.kind !== 'convert' && !discovered.has(task.key))
            discovered.set(task.key, { error: 'not fetched: offline build (--fetch asks the backends)' });
      }
      if (discovered.size === before) break;
      result = compile(discovered);
    }
    return result;
  } finally {
    await fetcher?.close();
  }
}
