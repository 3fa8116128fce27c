/** Reads a whole configuration directory into a ResourceSet (the file source's level-triggered "current state"). */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Diagnostic } from '../resources/diagnostics.ts';
import { type ResourceSet, refKey, refOf, type SourceLocation } from '../resources/types.ts';
import type { ConfigMap, EndpointSlice, Pod, Secret, Service } from '../schema/core.ts';
import type {
  BackendTLSPolicy,
  Gateway,
  GatewayClass,
  HTTPRoute,
  Namespace,
  ReferenceGrant,
} from '../schema/gateway-api.ts';
import type { InferencePool } from '../schema/inference-pool.ts';
import type { ModelAPI } from '../schema/model-api.ts';
import type { ModelGateway } from '../schema/model-gateway.ts';
import { beginParsePass, endParsePass, type LocatedObject, parseObjects } from './parse-yaml.ts';

/** The result of reading a directory: resources, where each came from, every problem, and a hash of the inputs. */
export interface DirectoryLoad {
  readonly resources: ResourceSet;
  readonly locations: ReadonlyMap<string, SourceLocation>;
  readonly diagnostics: readonly Diagnostic[];
  /** sha256 over file names and contents: equal hashes mean nothing changed. */
  readonly hash: string;
  /** What each file read as (by display name): the file source uses it to tell a save in progress from a result. */
  readonly files: ReadonlyMap<string, FileRead>;
}

/** One file as read. */
export interface FileRead {
  /** sha256 of the content. */
  readonly digest: string;
  readonly size: number;
  /** Modification time (ms) when it was read. */
  readonly mtimeMs: number;
  /** Whether it produced an error diagnostic. */
  readonly errors: boolean;
}

const CONFIG_FILE = /\.(ya?ml|json)$/i;

/** Editors' temporary and backup files (`.x.swp`, `x~`, `#x#`, vim's `4913`) are never configuration. */
export function isConfigFile(name: string): boolean {
  return CONFIG_FILE.test(name) && !name.startsWith('.') && !name.startsWith('#') && !name.endsWith('~');
}

/** A configuration file larger than this is refused unread (it would cost more memory than any configuration needs). */
export const MAX_FILE_BYTES = 32 * 1024 * 1024;

/**
 * Lists config files below dir, recursively, in a stable order. Symbolic links to files count (a Kubernetes ConfigMap
 * volume is `iris.yaml -> ..data/iris.yaml`, `..data -> ..2026_12_02…`); hidden directories (`..data` among them)
 * are not read themselves, so each file is read once, through its visible name.
 */
export async function listConfigFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: string[] = [];
  for (const e of entries) {
    if (!isConfigFile(e.name)) continue;
    if (
      relative(dir, e.parentPath)
        .split('/')
        .some((p) => p.startsWith('.'))
    )
      continue;
    const path = join(e.parentPath, e.name);
    if (e.isFile()) files.push(path);
    else if (e.isSymbolicLink()) {
      const target = await stat(path).catch(() => undefined); // a dangling link is no file
      if (target?.isFile()) files.push(path);
    }
  }
  return files.sort();
}

/** Reads and validates every config file below dir. Never throws for bad content; I/O errors become diagnostics. */
export async function loadDirectory(dir: string, displayRoot = dir): Promise<DirectoryLoad> {
  const hash = createHash('sha256');
  const diagnostics: Diagnostic[] = [];
  const objects: LocatedObject[] = [];
  const reads = new Map<string, FileRead>();
  const pass = beginParsePass(dir);
  let files: string[] = [];
  try {
    files = await listConfigFiles(dir);
  } catch (err) {
    diagnostics.push({ severity: 'error', message: `cannot read directory: ${(err as Error).message}`, field: '' });
  }
  for (const file of files) {
    const display = relative(displayRoot, file) || file;
    let text: string;
    let mtimeMs = 0;
    try {
      const info = await stat(file);
      const size = info.size;
      mtimeMs = info.mtimeMs;
      if (size > MAX_FILE_BYTES) {
        diagnostics.push({
          severity: 'error',
          message: `the file has ${size} bytes, more than the ${MAX_FILE_BYTES / 1024 / 1024} MiB a configuration file may have`,
          field: '',
          location: { file: display, line: 1, column: 1 },
        });
        continue;
      }
      text = await readFile(file, 'utf8');
    } catch (err) {
      // Deleted between listing and reading (an editor's rename dance): the watcher will call again.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      diagnostics.push({
        severity: 'error',
        message: `cannot read file: ${(err as Error).message}`,
        field: '',
        location: { file: display, line: 1, column: 1 },
      });
      continue;
    }
    hash.update(display).update('\0').update(text).update('\0');
    const parsed = parseObjects(display, text, pass);
    diagnostics.push(...parsed.diagnostics);
    objects.push(...parsed.objects);
    reads.set(display, {
      digest: createHash('sha256').update(text).digest('hex'),
      size: Buffer.byteLength(text),
      mtimeMs,
      errors: parsed.diagnostics.some((d) => d.severity === 'error'),
    });
  }
  endParsePass(pass);
  const { resources, locations } = collect(objects, diagnostics);
  return { resources, locations, diagnostics, hash: hash.digest('hex'), files: reads };
}

/**
 * Sources hand over objects with the namespace filled in, as the API server does. The copy is made once per parsed
 * object: the parser hands back the same object for an unchanged document, and the compiler reuses its work for an
 * object it has seen (by identity), so a new copy on every reload would make every API look changed.
 */
const namespacedCopies = new WeakMap<object, LocatedObject['object']>();
function namespaced(object: LocatedObject['object']): LocatedObject['object'] {
  if (object.metadata.namespace !== undefined) return object;
  let copy = namespacedCopies.get(object);
  if (copy === undefined) {
    copy = { ...object, metadata: { ...object.metadata, namespace: 'default' } };
    namespacedCopies.set(object, copy);
  }
  return copy;
}

/** Groups objects by kind; a second object with the same kind, namespace and name is an error at its location. */
export function collect(
  objects: readonly LocatedObject[],
  diagnostics: Diagnostic[],
): Pick<DirectoryLoad, 'resources' | 'locations'> {
  const locations = new Map<string, SourceLocation>();
  const modelApis: ModelAPI[] = [];
  const modelGateways: ModelGateway[] = [];
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  const secrets: Secret[] = [];
  const configMaps: ConfigMap[] = [];
  const namespaces: Namespace[] = [];
  const gatewayClasses: GatewayClass[] = [];
  const gateways: Gateway[] = [];
  const httpRoutes: HTTPRoute[] = [];
  const referenceGrants: ReferenceGrant[] = [];
  const backendTLSPolicies: BackendTLSPolicy[] = [];
  const inferencePools: InferencePool[] = [];
  const pods: Pod[] = [];
  for (const { object, location } of objects) {
    const key = refKey(refOf(object));
    const first = locations.get(key);
    if (first) {
      diagnostics.push({
        severity: 'error',
        message: `duplicate object; first defined at ${first.file}:${first.line}`,
        field: 'metadata.name',
        object: key,
        location,
      });
      continue;
    }
    locations.set(key, location);
    const withNamespace = namespaced(object);
    switch (object.kind) {
      case 'ModelAPI':
        modelApis.push(withNamespace as unknown as ModelAPI);
        break;
      case 'ModelGateway':
        modelGateways.push(withNamespace as unknown as ModelGateway);
        break;
      case 'Service':
        services.push(withNamespace as unknown as Service);
        break;
      case 'EndpointSlice':
        endpointSlices.push(withNamespace as unknown as EndpointSlice);
        break;
      case 'Secret':
        secrets.push(withNamespace as unknown as Secret);
        break;
      case 'ConfigMap':
        configMaps.push(withNamespace as unknown as ConfigMap);
        break;
      case 'Namespace':
        namespaces.push(object as unknown as Namespace); // cluster-scoped
        break;
      case 'GatewayClass':
        gatewayClasses.push(object as unknown as GatewayClass); // cluster-scoped
        break;
      case 'Gateway':
        gateways.push(withNamespace as unknown as Gateway);
        break;
      case 'HTTPRoute':
        httpRoutes.push(withNamespace as unknown as HTTPRoute);
        break;
      case 'ReferenceGrant':
        referenceGrants.push(withNamespace as unknown as ReferenceGrant);
        break;
      case 'BackendTLSPolicy':
        backendTLSPolicies.push(withNamespace as unknown as BackendTLSPolicy);
        break;
      case 'InferencePool':
        inferencePools.push(withNamespace as unknown as InferencePool);
        break;
      case 'Pod':
        pods.push(withNamespace as unknown as Pod);
        break;
    }
  }
  return {
    resources: {
      modelApis,
      modelGateways,
      services,
      endpointSlices,
      secrets,
      configMaps,
      namespaces,
      gatewayClasses,
      gateways,
      httpRoutes,
      referenceGrants,
      backendTLSPolicies,
      inferencePools,
      pods,
    },
    locations,
  };
}
