/**
 * Serves the docs plane of one snapshot. URL scheme (under the ModelGateway's `spec.docs.pathPrefix`, default the root):
 *
 *   /portal (and / unless Gateways are served) landing page: model APIs, versions, weights, readiness, deprecation
 *   /docs                                     Swagger UI (selector: everything, each API, each version)
 *   /redoc                                    ReDoc of everything
 *   /openapi.json, /openapi.yaml              everything public, merged
 *   /openapi/{namespace}/{name}.json|.yaml    one model API (unversioned paths + every version)
 *   /openapi/{namespace}/{name}/versions/{version}.json|.yaml
 *   {api prefix}/openapi.json|.yaml, {api prefix}/versions/{version}/openapi.json|.yaml
 *                                             the same documents where consumers of a model service look first
 *                                             (FastAPI's `/openapi.json`, the `/v1/openapi.json` form), whatever the
 *                                             portal's prefix
 *   /docs-assets/{file}                       the UI assets, from npm packages
 *   /changelog, /changelog.json, /changelog.atom               every recorded revision, newest first
 *   /changelog/{namespace}/{name}[.json|.atom]                  one model API's revisions, versions, deprecations
 *   /changelog/{namespace}/{name}/migrate[.json]?from=V&to=W   what changes between two versions
 *
 * Documents carry a strong ETag from their content hash and answer 304 to a matching If-None-Match. They are
 * merged and serialised on first request — in the document worker when there is one, so that merging a 10 MB
 * document never holds the event loop — and cached with the snapshot (which is immutable): an unchanged document
 * costs a map lookup.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify as toYaml } from 'yaml';
import type { Revision } from '../changes/revisions.ts';
import type { ErrorName } from '../errors/catalog.ts';
import { sendProblem } from '../errors/problem.ts';
import type { DocsPlane, PublishedApi } from '../snapshot/types.ts';
import { changelogAtom, changelogHtml, changelogJson, migration, migrationHtml } from './changelog.ts';
import { compressed, negotiate } from './compression.ts';
import { asset } from './portal/assets.ts';
import { landingPage, redocPage, swaggerPage, type VersionHealth } from './portal/pages.ts';
import { type PublishInput, type PublishRunner, publish, publishInput } from './published.ts';

type Json = Readonly<Record<string, unknown>>;

/** The recorded revisions (of one API when given), newest first. */
export type RevisionSource = (api?: string) => readonly Revision[];

interface Rendered {
  readonly body: Buffer;
  readonly etag: string;
  readonly contentType: string;
}

/** The portal of one snapshot. */
export class DocsSite {
  readonly #plane: DocsPlane;
  readonly #prefix: string;
  /** Published APIs by `namespace/name`, indexed on the first document request (most snapshots never serve one). */
  #apisByName: Map<string, PublishedApi> | undefined;
  /** Published APIs by public path prefix (several when hostnames tell them apart), indexed on first use. */
  #apisByPrefix: Map<string, PublishedApi[]> | undefined;
  readonly #built = new Map<string, Json>();
  readonly #rendered = new Map<string, Rendered>();
  /** Documents being rendered in the worker, by path: requests meanwhile wait for the same result. */
  readonly #rendering = new Map<string, Promise<Rendered | { error: string }>>();
  readonly #health: (cluster: string) => VersionHealth;
  readonly #revisions: RevisionSource;
  readonly #processor: PublishRunner | undefined;

  constructor(
    plane: DocsPlane,
    health: (cluster: string) => VersionHealth,
    revisions: RevisionSource = () => [],
    processor?: PublishRunner,
  ) {
    this.#processor = processor;
    this.#plane = plane;
    this.#revisions = revisions;
    this.#prefix = plane.pathPrefix;
    this.#health = health;
  }

  /**
   * How to build the document at `key` (its path without extension): the merged one, an API's or a version's.
   * Looked up per request rather than listed per snapshot: ten thousand APIs would otherwise cost a map of tens of
   * thousands of closures on every reload.
   */
  #documentAt(key: string): PublishInput | undefined {
    const plane = this.#plane;
    if (key === `${this.#prefix}/openapi`) return publishInput(plane);
    const m = /^\/openapi\/([^/]+)\/([^/]+)(?:\/versions\/([^/]+))?$/.exec(key.slice(this.#prefix.length));
    if (!m || !key.startsWith(this.#prefix)) return undefined;
    this.#apisByName ??= new Map(plane.apis.map((a) => [`${a.namespace}/${a.name}`, a]));
    const api = this.#apisByName.get(`${m[1]}/${m[2]}`);
    if (!api) return undefined;
    return publishInput(plane, api, m[3]);
  }

  /**
   * The canonical document path (`<portal>/openapi/<ns>/<name>[/versions/<v>].<ext>`) of a conventional one under an
   * API's own prefix, or undefined. Cheap for every other path: only paths ending in `/openapi.json|yaml` are looked up.
   */
  #conventional(path: string, host: string | undefined): string | undefined {
    if (!path.endsWith('/openapi.json') && !path.endsWith('/openapi.yaml')) return undefined;
    const ext = path.slice(-4);
    const base = path.slice(0, -'/openapi.json'.length);
    if (this.#apisByPrefix === undefined) {
      this.#apisByPrefix = new Map();
      for (const api of this.#plane.apis) {
        const list = this.#apisByPrefix.get(api.pathPrefix) ?? [];
        list.push(api);
        this.#apisByPrefix.set(api.pathPrefix, list);
      }
    }
    const canonical = (api: PublishedApi, version?: string) =>
      `${this.#prefix}/openapi/${api.namespace}/${api.name}${version ? `/versions/${version}` : ''}.${ext}`;
    const own = this.#pickByHost(this.#apisByPrefix.get(base), host);
    if (own) return canonical(own);
    const v = /^(.*)\/versions\/([^/]+)$/.exec(base);
    const api = v ? this.#pickByHost(this.#apisByPrefix.get(v[1]!), host) : undefined;
    return api?.versions.some((x) => x.name === v![2]) ? canonical(api, v![2]) : undefined;
  }

  /** Of the APIs on one prefix, the one whose hostnames match the request's (else one without hostnames). */
  #pickByHost(apis: readonly PublishedApi[] | undefined, host: string | undefined): PublishedApi | undefined {
    if (!apis || apis.length === 0) return undefined;
    if (apis.length === 1) return apis[0];
    const name = (host ?? '').replace(/:\d+$/, '').toLowerCase();
    const hostnamesOf = (a: PublishedApi) => a.parts[0]?.hostnames ?? [];
    return apis.find((a) => hostnamesOf(a).includes(name)) ?? apis.find((a) => hostnamesOf(a).length === 0) ?? apis[0];
  }

  /** Whether `path` belongs to the portal (checked before routing: the portal's paths are reserved). */
  handles(path: string, host?: string): boolean {
    if (this.#conventional(path, host) !== undefined) return true;
    const p = this.#prefix;
    if (p !== '' && !path.startsWith(p)) return false;
    const rest = path.slice(p.length);
    return (
      ((rest === '/' || rest === '') && this.#plane.rootLanding) ||
      rest === '/portal' ||
      rest === '/docs' ||
      rest === '/docs/' ||
      rest === '/redoc' ||
      rest === '/openapi.json' ||
      rest === '/openapi.yaml' ||
      rest.startsWith('/openapi/') ||
      rest.startsWith('/docs-assets/') ||
      rest === '/changelog' ||
      rest === '/changelog.json' ||
      rest === '/changelog.atom' ||
      rest.startsWith('/changelog/') ||
      // Sign-on's own pages (callback, logout, signed out) are answered by the gate, never by the site.
      (rest.startsWith('/oauth2/') && (this.#plane.sso !== undefined || this.#plane.ssoUnavailable === true))
    );
  }

  /** Answers a request for a path `handles` accepted. */
  serve(req: IncomingMessage, res: ServerResponse, path: string, requestId: string): void {
    const fail = (name: ErrorName, detail: string) =>
      sendProblem(res, name, detail, { instance: req.url ?? path, requestId });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      fail('methodNotAllowed', `${req.method} is not allowed here; use GET`);
      return;
    }
    const rest = path.slice(this.#prefix.length);
    if (rest === '') {
      // `/portal` → `portal/`, relative, so links resolve under the portal even behind another prefix.
      const last = this.#prefix.slice(this.#prefix.lastIndexOf('/') + 1);
      this.#redirect(res, `${last}/`);
      return;
    }
    if (rest === '/docs/') {
      this.#redirect(res, '../docs');
      return;
    }
    if (rest === '/' || rest === '/portal' || rest === '/docs' || rest === '/redoc') {
      // Pages may load only what the gateway serves: no CDN, even for what a UI bundle would fetch by itself
      // (ReDoc's sidebar logo); "Try it out" may call the gateway's public URL.
      res.setHeader('content-security-policy', this.#csp());
      res.setHeader('x-content-type-options', 'nosniff');
      const page =
        rest === '/' || rest === '/portal'
          ? this.#page('landing', () => landingPage(this.#plane, '', this.#health))
          : rest === '/docs'
            ? this.#page('docs', () => swaggerPage(this.#plane, ''))
            : this.#page('redoc', () => redocPage(this.#plane, ''));
      this.#send(req, res, page, 'no-cache');
      return;
    }
    if (rest.startsWith('/docs-assets/')) {
      const found = asset(rest.slice('/docs-assets/'.length));
      if (!found) {
        fail('documentNotFound', `no asset ${rest}`);
        return;
      }
      // The asset object itself (cached for the process): its compressed copies are kept with its body.
      this.#send(req, res, found, 'public, max-age=3600');
      return;
    }
    if (rest === '/changelog' || rest.startsWith('/changelog.') || rest.startsWith('/changelog/')) {
      this.#changelog(req, res, rest, fail);
      return;
    }
    path = this.#conventional(path, req.headers.host) ?? path;
    const m = /^(.*)\.(json|yaml)$/.exec(path);
    const input = m ? this.#documentAt(m[1]!) : undefined;
    if (!m || !input) {
      fail('documentNotFound', `no OpenAPI document at ${path}; the landing page lists what is published`);
      return;
    }
    const format = m[2] as 'json' | 'yaml';
    const cached = this.#rendered.get(path);
    if (cached || !this.#processor) {
      this.#send(req, res, cached ?? this.#document(path, m[1]!, input, format), 'no-cache');
      return;
    }
    let rendering = this.#rendering.get(path);
    if (!rendering) {
      rendering = this.#renderInWorker(this.#processor, path, input, format);
      this.#rendering.set(path, rendering);
    }
    void rendering.then((r) => {
      if (res.destroyed) return;
      if ('error' in r) fail('internalError', `the document could not be rendered: ${r.error}`);
      else this.#send(req, res, r, 'no-cache');
    });
  }

  /** Merges and serialises a document in the worker; only the hand-over (a structured clone of its parts) costs this thread. */
  async #renderInWorker(
    processor: PublishRunner,
    path: string,
    input: PublishInput,
    format: 'json' | 'yaml',
  ): Promise<Rendered | { error: string }> {
    const outcome = await processor.run({ op: 'publish', input, format });
    this.#rendering.delete(path);
    if (!outcome.ok) return { error: outcome.error };
    const body = Buffer.from(outcome.body as string);
    const rendered: Rendered = {
      body,
      etag: `"${createHash('sha256').update(body).digest('base64url')}"`,
      contentType: format === 'json' ? 'application/json' : 'application/yaml',
    };
    this.#rendered.set(path, rendered);
    return rendered;
  }

  /** The changelog and migration views: live (revisions accrue between snapshots), so rendered per request. */
  #changelog(req: IncomingMessage, res: ServerResponse, rest: string, fail: (name: ErrorName, detail: string) => void) {
    const m = /^\/changelog(?:\/([^/.]+)\/([^/.]+))?(\/migrate)?(?:\.(json|atom))?$/.exec(rest);
    const [namespace, name, migrate, format] = m ? [m[1], m[2], m[3], m[4]] : [];
    const api = namespace ? this.#plane.apis.find((a) => a.namespace === namespace && a.name === name) : undefined;
    if (!m || (namespace && !api) || (migrate && (!api || format === 'atom'))) {
      fail('documentNotFound', `no changelog at ${rest}; the landing page lists the model APIs`);
      return;
    }
    // Relative links: from /changelog the root is '', from /changelog/{ns}/{name} it is '../../'.
    const base = api ? '../../' : '';
    if (migrate && api) {
      const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
      const deprecated = api.versions.find((v) => v.deprecated);
      const from = query.get('from') ?? deprecated?.name ?? api.versions[0]?.name ?? '';
      const to = query.get('to') ?? deprecated?.successor ?? api.versions.at(-1)?.name ?? '';
      const changes = migration(api, from, to);
      if (!changes) {
        fail(
          'documentNotFound',
          `${api.namespace}/${api.name} has no version ${JSON.stringify(from)} or ${JSON.stringify(to)}`,
        );
        return;
      }
      const body =
        format === 'json'
          ? jsonBody({ api: api.ref, from, to, changes })
          : html(migrationHtml(api, from, to, changes, '../../../'));
      this.#send(req, res, body, 'no-cache');
      return;
    }
    const revisions = this.#revisions(api?.ref);
    if (format === 'json') this.#send(req, res, jsonBody(changelogJson(revisions, api)), 'no-cache');
    else if (format === 'atom') {
      const root = `${this.#plane.publicURL}${this.#prefix}`;
      const body = Buffer.from(changelogAtom(this.#plane, revisions, root, api));
      this.#send(
        req,
        res,
        { body, etag: etagOf(body), contentType: 'application/atom+xml; charset=utf-8' },
        'no-cache',
      );
    } else {
      res.setHeader('content-security-policy', this.#csp());
      this.#send(req, res, html(changelogHtml(this.#plane, revisions, base, api)), 'no-cache');
    }
  }

  #csp(): string {
    let api = '';
    try {
      api = ` ${new URL(this.#plane.publicURL).origin}`;
    } catch {
      // an unparsable public URL only means "Try it out" is limited to this origin
    }
    return [
      "default-src 'self'",
      "img-src 'self' data:",
      "style-src 'self' 'unsafe-inline'",
      "font-src 'self' data:",
      "script-src 'self'",
      "worker-src 'self' blob:",
      `connect-src 'self'${api}`,
      "frame-ancestors 'self'",
    ].join('; ');
  }

  #redirect(res: ServerResponse, location: string): void {
    res.writeHead(301, { location, 'content-length': 0 });
    res.end();
  }

  #page(name: string, render: () => string): Rendered {
    // The landing page shows live readiness: rendered per request, it is small.
    if (name === 'landing') return html(render());
    const cached = this.#rendered.get(`page:${name}`);
    if (cached) return cached;
    const rendered = html(render());
    this.#rendered.set(`page:${name}`, rendered);
    return rendered;
  }

  #document(path: string, key: string, input: PublishInput, format: 'json' | 'yaml'): Rendered {
    const cached = this.#rendered.get(path);
    if (cached) return cached;
    let document = this.#built.get(key);
    if (!document) {
      // Merged on first request (JSON and YAML share it), then served from memory for the snapshot's life.
      document = publish(input);
      this.#built.set(key, document);
    }
    const text = format === 'json' ? JSON.stringify(document) : toYaml(document, { aliasDuplicateObjects: false });
    const body = Buffer.from(text);
    const rendered = {
      body,
      etag: `"${createHash('sha256').update(body).digest('base64url')}"`,
      contentType: format === 'json' ? 'application/json' : 'application/yaml',
    };
    this.#rendered.set(path, rendered);
    return rendered;
  }

  #send(req: IncomingMessage, res: ServerResponse, r: Rendered, cacheControl: string): void {
    const encoding = negotiate(req.headers['accept-encoding'], r.contentType, r.body.length);
    // A compressed copy is another representation: its own entity tag (RFC 9110 §8.8.3).
    const etag = encoding ? `${r.etag.slice(0, -1)}-${encoding}"` : r.etag;
    const headers = { etag, 'cache-control': cacheControl, vary: 'accept-encoding' };
    if (matchesEtag(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const answer = (body: Buffer, coding: string | undefined) => {
      if (res.destroyed) return;
      res.writeHead(200, {
        ...headers,
        ...(coding ? { 'content-encoding': coding } : { etag: r.etag }),
        'content-type': r.contentType,
        'content-length': body.length,
      });
      if (req.method === 'HEAD') res.end();
      else res.end(body);
    };
    if (!encoding) {
      answer(r.body, undefined);
      return;
    }
    compressed(r.body, encoding).then(
      (body) => answer(body, encoding),
      () => answer(r.body, undefined),
    );
  }
}

function html(text: string): Rendered {
  const body = Buffer.from(text);
  return { body, etag: etagOf(body), contentType: 'text/html; charset=utf-8' };
}

function jsonBody(value: unknown): Rendered {
  const body = Buffer.from(JSON.stringify(value));
  return { body, etag: etagOf(body), contentType: 'application/json' };
}

function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** If-None-Match: `*`, or a list of (possibly weak) tags, compared weakly as RFC 9110 asks for GET. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
