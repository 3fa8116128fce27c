import { flat } from '../resources/compact.ts';
/** Turns a version's backend (a Service reference or a URL) into endpoints, or says precisely why it cannot. */
import type { EndpointSlice, Secret, Service } from '../schema/core.ts';
import type { Backend } from '../schema/model-api.ts';
import type { ClusterEndpoint, UpstreamTls } from '../snapshot/types.ts';

/** Lookups built once per compilation. */
export interface BackendIndex {
  readonly services: ReadonlyMap<string, Service>;
  /** EndpointSlices by `namespace/serviceName`. */
  readonly slicesByService: ReadonlyMap<string, readonly EndpointSlice[]>;
  /** Secrets by `namespace/name` (backend TLS material). */
  readonly secrets: ReadonlyMap<string, Secret>;
}

/** Indexes Services and EndpointSlices. */
export function indexBackends(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
  secrets: readonly Secret[] = [],
): BackendIndex {
  const serviceMap = new Map(services.map((s) => [`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`, s]));
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const slice of [...slices].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const svc = slice.metadata.labels?.['kubernetes.io/service-name'];
    if (!svc) continue;
    const key = `${slice.metadata.namespace ?? 'default'}/${svc}`;
    const list = slicesByService.get(key) ?? [];
    list.push(slice);
    slicesByService.set(key, list);
  }
  return {
    services: serviceMap,
    slicesByService,
    secrets: new Map(secrets.map((s) => [`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`, s])),
  };
}

/** A resolved backend. */
export type ResolvedBackend =
  | {
      readonly ok: true;
      readonly endpoints: ClusterEndpoint[];
      readonly basePath: string;
      readonly hostHeader?: string;
    }
  | {
      readonly ok: false;
      readonly reason: 'BackendNotFound' | 'InvalidPort' | 'InvalidBackend';
      readonly message: string;
    };

/** Resolves one backend in the namespace of the resource that references it. */
export function resolveBackend(backend: Backend, namespace: string, index: BackendIndex): ResolvedBackend {
  if (backend.url !== undefined) return resolveUrl(backend.url);
  const ref = backend.service!;
  const ns = ref.namespace ?? namespace;
  const service = index.services.get(`${ns}/${ref.name}`);
  if (!service) return { ok: false, reason: 'BackendNotFound', message: `Service ${ns}/${ref.name} not found` };
  const port = (service.spec.ports ?? []).find((p) =>
    typeof ref.port === 'number' ? p.port === ref.port : p.name === ref.port,
  );
  if (!port) {
    return {
      ok: false,
      reason: 'InvalidPort',
      message: `Service ${ns}/${ref.name} has no port ${JSON.stringify(ref.port)}`,
    };
  }
  if (service.spec.type === 'ExternalName' && service.spec.externalName) {
    return {
      ok: true,
      endpoints: [
        { origin: `${backend.tls ? 'https' : 'http'}://${service.spec.externalName}:${port.port}`, ready: true },
      ],
      basePath: '',
    };
  }
  const endpoints: ClusterEndpoint[] = [];
  const seen = new Set<string>();
  for (const slice of index.slicesByService.get(`${ns}/${ref.name}`) ?? []) {
    // The slice port that carries this service port has the same name ('' for a single unnamed port).
    const slicePort = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? ''));
    const portNumber = slicePort?.port ?? (typeof port.targetPort === 'number' ? port.targetPort : undefined);
    if (portNumber === undefined) continue;
    for (const ep of slice.endpoints) {
      const address = ep.addresses[0]!;
      const host = slice.addressType === 'IPv6' ? `[${address}]` : address;
      const origin = `${backend.tls ? 'https' : 'http'}://${host}:${portNumber}`;
      if (seen.has(origin)) continue;
      seen.add(origin);
      // Kubernetes: a nil `ready` means ready; terminating endpoints are not picked for new requests.
      endpoints.push({ origin, ready: ep.conditions?.ready !== false && ep.conditions?.terminating !== true });
    }
  }
  endpoints.sort((a, b) => a.origin.localeCompare(b.origin));
  return { ok: true, endpoints, basePath: '' };
}

function resolveUrl(raw: string): ResolvedBackend {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'InvalidBackend', message: `invalid URL ${raw}` };
  }
  const basePath = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  // The origin of an http(s) URL, built flat: the snapshot keeps it and URL's getter hands back a rope (compact.ts).
  const origin = flat(url.protocol, '//', url.host);
  return { ok: true, endpoints: [{ origin, ready: true }], basePath, hostHeader: url.host };
}

/** The TLS settings of a backend: PEMs from its Secrets, or a problem naming what is missing. */
export function resolveUpstreamTls(
  backend: Backend,
  namespace: string,
  index: BackendIndex,
): { tls?: UpstreamTls; problem?: string } {
  const t = backend.tls;
  if (!t) return {};
  const read = (ref: { name: string; namespace?: string | undefined }, key: string) => {
    const s = index.secrets.get(`${ref.namespace ?? namespace}/${ref.name}`);
    const text =
      s?.stringData?.[key] ?? (s?.data?.[key] ? Buffer.from(s.data[key]!, 'base64').toString('utf8') : undefined);
    return { found: s !== undefined, text };
  };
  const tls: { caPem?: string; serverName?: string; certPem?: string; keyPem?: string } = {};
  if (t.serverName) tls.serverName = t.serverName;
  if (t.caSecret) {
    const ca = read(t.caSecret, 'ca.crt');
    if (!ca.text)
      return { problem: `Secret ${t.caSecret.namespace ?? namespace}/${t.caSecret.name} with ca.crt not found` };
    tls.caPem = ca.text;
  }
  if (t.clientCertificate) {
    const cert = read(t.clientCertificate, 'tls.crt');
    const key = read(t.clientCertificate, 'tls.key');
    if (!cert.text || !key.text)
      return {
        problem: `Secret ${t.clientCertificate.namespace ?? namespace}/${t.clientCertificate.name} with tls.crt and tls.key not found`,
      };
    tls.certPem = cert.text;
    tls.keyPem = key.text;
  }
  return { tls };
}
