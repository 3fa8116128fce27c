/**
 * The portal's HTML pages: Swagger UI (`docs`), ReDoc (`redoc`) and the landing page listing every model API with its
 * versions, traffic weights, readiness, documentation state and deprecation. All links are relative to the page, so
 * the portal works at the root, under `spec.docs.pathPrefix`, and behind a proxy that adds its own prefix.
 */
import type { DocsPlane } from '../../snapshot/types.ts';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Embeds JSON in a `<script type="application/json">` safely. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/** The document URLs Swagger UI offers in its selector: everything, then each API, then each version. */
export function documentLinks(plane: DocsPlane, base: string): { url: string; name: string }[] {
  const links = [{ url: `${base}openapi.json`, name: plane.title }];
  for (const api of plane.apis) {
    links.push({ url: `${base}openapi/${api.namespace}/${api.name}.json`, name: api.tag });
    if (api.versions.length > 1) {
      for (const v of api.versions)
        links.push({
          url: `${base}openapi/${api.namespace}/${api.name}/versions/${v.name}.json`,
          name: `${api.tag} ${v.name}`,
        });
    }
  }
  return links;
}

const BAR_STYLE = 'font-family:system-ui,sans-serif;margin:0;padding:0.45rem 1rem;font-size:14px';

/**
 * The strip above Swagger UI and ReDoc: links to the landing page and the changelog, and a banner for every
 * deprecated version with its sunset, its successor and the migration guide (inline styles: the UI bundles bring
 * their own stylesheets and the page has no other).
 */
export function portalBar(plane: DocsPlane, base: string): string {
  const nav = `<p style="${BAR_STYLE};background:#f6f8fa;border-bottom:1px solid #d8dee4"><a href="${base}portal">Model APIs</a> · <a href="${base}changelog">Changelog</a></p>`;
  const banners = plane.apis
    .filter((api) => !api.hidden)
    .flatMap((api) =>
      api.versions
        .filter((v) => v.deprecated)
        .map((v) => {
          const guide = v.successor
            ? ` Move to <code>${escapeHtml(v.successor)}</code>: <a href="${base}changelog/${api.namespace}/${api.name}/migrate?from=${encodeURIComponent(v.name)}&amp;to=${encodeURIComponent(v.successor)}">migration guide</a>.`
            : '';
          return `<p role="alert" class="modelgate-deprecation" style="${BAR_STYLE};background:#fff8c5;border-bottom:1px solid #d4a72c">⚠ <strong>${escapeHtml(api.title)} ${escapeHtml(v.name)}</strong> is deprecated${v.sunset ? `${Date.parse(v.sunset) <= Date.now() ? ' and was retired on' : ' and will be retired on'} <strong>${escapeHtml(v.sunset)}</strong>` : ''}.${guide} <a href="${base}changelog/${api.namespace}/${api.name}">Changelog</a></p>`;
        }),
    );
  return nav + banners.join('');
}

/** Swagger UI; `base` is the relative path from the page to the portal root ('' when the page is at its root). */
export function swaggerPage(plane: DocsPlane, base: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(plane.title)} — API reference</title>
<link rel="icon" type="image/png" href="${base}docs-assets/favicon.png">
<link rel="stylesheet" href="${base}docs-assets/swagger-ui.css">
</head>
<body>
${portalBar(plane, base)}
<div id="swagger-ui"></div>
<script id="modelgate-config" type="application/json">${scriptJson({ urls: documentLinks(plane, base) })}</script>
<script src="${base}docs-assets/swagger-ui-bundle.js"></script>
<script src="${base}docs-assets/swagger-ui-standalone-preset.js"></script>
<script src="${base}docs-assets/swagger-init.js"></script>
</body>
</html>
`;
}

/** ReDoc for the merged document (or `?spec=` one of the portal's own documents). */
export function redocPage(plane: DocsPlane, base: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(plane.title)} — ReDoc</title>
<link rel="icon" type="image/png" href="${base}docs-assets/favicon.png">
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
${portalBar(plane, base)}
<redoc spec-url="${base}openapi.json" hide-hostname="false" path-in-middle-panel="true"></redoc>
<script src="${base}docs-assets/redoc.standalone.js"></script>
</body>
</html>
`;
}

/** Live facts about a version the snapshot alone does not know. */
export interface VersionHealth {
  readonly ready: number;
  readonly total: number;
}

/** The landing page. */
export function landingPage(plane: DocsPlane, base: string, health: (cluster: string) => VersionHealth): string {
  // From the portal to the gateway's root (API prefixes are absolute paths; links stay relative for proxies).
  const root = base + '../'.repeat(plane.pathPrefix.split('/').filter(Boolean).length);
  const rows = plane.apis
    .filter((api) => !api.hidden)
    .map((api) => {
      const total = api.versions.reduce((a, v) => a + v.weight, 0);
      const versions = api.versions
        .map((v) => {
          const h = health(v.cluster);
          const share = total > 0 ? `${Math.round((v.weight / total) * 1000) / 10}%` : '0%';
          const depText = v.deprecated
            ? ` · <span class="warn">deprecated${v.sunset ? `, sunset ${escapeHtml(v.sunset)}` : ''}</span>`
            : '';
          // The same verdict as the ModelAPI's Ready condition (reason NoHealthyEndpoints).
          const readiness =
            h.ready > 0
              ? `<span class="ok">ready ${h.ready}/${h.total}</span>`
              : `<span class="bad" title="Ready=False: NoHealthyEndpoints">not ready 0/${h.total} · NoHealthyEndpoints</span>`;
          const versionDoc = `${root}${api.pathPrefix.slice(1)}/versions/${encodeURIComponent(v.name)}/openapi.json`;
          return `<div><code>${escapeHtml(v.name)}</code> ${share} · ${readiness} · <span class="muted">${escapeHtml(v.source)}</span>${depText} · <a href="${versionDoc}">openapi.json</a> <a href="${versionDoc}" download="${escapeHtml(`${api.namespace}-${api.name}-${v.name}.openapi.json`)}">download</a></div>`;
        })
        .join('');
      const doc = `${base}openapi/${api.namespace}/${api.name}.json`;
      const documented =
        api.documented.status === 'True'
          ? '<span class="ok">yes</span>'
          : `<span class="${api.documented.status === 'False' ? 'bad' : 'warn'}" title="${escapeHtml(api.documented.message)}">${escapeHtml(api.documented.reason)}</span>`;
      return `<tr>
<td><strong>${escapeHtml(api.title)}</strong><div class="muted">${escapeHtml(api.namespace)}/${escapeHtml(api.name)}</div></td>
<td><code>${escapeHtml(api.pathPrefix)}</code></td>
<td>${escapeHtml(api.protocol)}</td>
<td>${versions}</td>
<td>${documented}</td>
<td><a href="${base}docs?urls.primaryName=${encodeURIComponent(api.tag)}">Swagger UI</a><br><a href="${doc}">OpenAPI</a> (<a href="${doc}" download="${escapeHtml(`${api.namespace}-${api.name}.openapi.json`)}">download</a>)<br><a href="${root}${api.pathPrefix.slice(1)}/openapi.json">${escapeHtml(api.pathPrefix)}/openapi.json</a></td>
</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(plane.title)}</title>
<link rel="icon" type="image/png" href="${base}docs-assets/favicon.png">
<link rel="stylesheet" href="${base}docs-assets/portal.css">
</head>
<body>
<h1>${escapeHtml(plane.title)}</h1>
<nav><a href="${base}docs">Swagger UI</a><a href="${base}redoc">ReDoc</a><a href="${base}changelog">Changelog</a><a href="${base}openapi.json">openapi.json</a><a href="${base}openapi.yaml">openapi.yaml</a><a href="${base}openapi.json" download="openapi.json">download</a></nav>
<table>
<thead><tr><th>Model API</th><th>Path</th><th>Protocol</th><th>Versions (traffic · readiness · schema source)</th><th>Documented</th><th>Docs</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="6">No model APIs are served.</td></tr>'}
</tbody>
</table>
</body>
</html>
`;
}
