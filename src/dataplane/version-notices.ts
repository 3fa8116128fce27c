/**
 * What an answer says about the version that served it: the header naming the version, and for a deprecated version
 * or a deprecated operation the Deprecation (RFC 9745), Sunset (RFC 8594) and Link (RFC 8288) headers. A version past
 * its sunset with `afterSunset: Gone` is answered 410 here. Header sets are built once per backend and settings
 * (snapshots are immutable) and outlive snapshots: a reload does not reset when a deprecation was first seen.
 */
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { PolicyContext } from '../policies/phase.ts';
import type { RouteBackend, VersionDeprecation } from '../snapshot/types.ts';

type Headers = Readonly<Record<string, string>>;

export class VersionNotices {
  /** Deprecation headers per API version, rebuilt when a snapshot brings new settings. */
  readonly #announcements = new Map<string, { source: object; headers: Headers }>();
  /** When each version without an explicit deprecation date was first served as deprecated (epoch seconds). */
  readonly #deprecationSeen = new Map<string, number>();
  readonly #versionHeaders = new WeakMap<object, Headers>();
  readonly #metrics: GatewayMetrics;

  constructor(metrics: GatewayMetrics) {
    this.#metrics = metrics;
  }

  /**
   * The headers an answer from `backend` carries; undefined when the version is gone and the request was answered
   * (410, through `fail`).
   */
  headersFor(ctx: PolicyContext, backend: RouteBackend, fail: PolicyContext['fail']): Headers | undefined {
    const { rule, identity } = ctx;
    const versionHeaders = this.#versionHeadersOf(backend, ctx.action);
    if (backend.deprecation) {
      const d = backend.deprecation;
      const api = rule.labels.api;
      const name = backend.version ?? '';
      if (d.sunsetMs !== undefined && d.afterSunset === 'Gone' && Date.now() >= d.sunsetMs) {
        if (d.successor) ctx.res.setHeader('link', `<${d.successor.url}>; rel="successor-version"`);
        fail(
          'versionGone',
          `version ${name} was retired on ${new Date(d.sunsetMs).toUTCString()}${d.successor ? `; use ${d.successor.version} at ${d.successor.url}` : ''}`,
          { sunset: new Date(d.sunsetMs).toISOString(), ...(d.successor ? { successor: d.successor } : {}) },
        );
        return undefined;
      }
      this.#metrics.deprecatedCalls.labels(api, name, identity?.subject ?? '').inc();
      return { ...versionHeaders, ...this.#announcement(api, name, d) };
    }
    if (backend.version === undefined || !rule.source.startsWith('ModelAPI/')) return versionHeaders;
    const op = ctx.runtime.deprecatedOperations.find(
      rule.labels.api,
      backend.version,
      ctx.req.method ?? 'GET',
      ctx.path,
      backend,
    );
    if (!op) return versionHeaders;
    const [, ns, name] = rule.labels.api.split('/');
    const docs = ctx.runtime.snapshot.docs;
    this.#metrics.deprecatedCalls.labels(rule.labels.api, backend.version, identity?.subject ?? '').inc();
    const announced = this.#announcement(
      `${rule.labels.api} ${op.method} ${op.path}`,
      backend.version,
      {
        ...(op.sunsetMs !== undefined ? { sunsetMs: op.sunsetMs } : {}),
        link: `${docs.publicURL}${docs.pathPrefix}/changelog/${ns}/${name}`,
        afterSunset: 'Serve',
      },
      op,
    );
    return { ...versionHeaders, ...announced };
  }

  /**
   * The Deprecation, Sunset and Link headers of a deprecated version, built once per version and settings. Without an
   * explicit date, the deprecation dates from when this process first served it as such.
   */
  #announcement(api: string, version: string, d: VersionDeprecation, identity: object = d): Headers {
    const key = `${api}\0${version}`;
    const cached = this.#announcements.get(key);
    if (cached?.source === identity) return cached.headers;
    let at = d.at;
    if (at === undefined) {
      at = this.#deprecationSeen.get(key) ?? Math.floor(Date.now() / 1000);
      this.#deprecationSeen.set(key, at);
    }
    const links = [`<${d.link}>; rel="deprecation"; type="text/html"`];
    if (d.successor) links.push(`<${d.successor.url}>; rel="successor-version"`);
    const headers: Record<string, string> = { deprecation: `@${at}`, link: links.join(', ') };
    if (d.sunsetMs !== undefined) headers.sunset = new Date(d.sunsetMs).toUTCString();
    this.#announcements.set(key, { source: identity, headers });
    return headers;
  }

  /** The header naming the serving version, built once per backend. */
  #versionHeadersOf(backend: RouteBackend, action: PolicyContext['action']): Headers {
    let headers = this.#versionHeaders.get(backend);
    if (headers === undefined) {
      headers = backend.version ? { [action.versionPin?.header ?? 'x-model-version']: backend.version } : {};
      this.#versionHeaders.set(backend, headers);
    }
    return headers;
  }
}
