/**
 * The changelog of published API revisions and the version-to-version migration view, as JSON, HTML and Atom.
 * Pure renderers: revisions (from the revision store) and the docs plane in, text out. Newest first; breaking changes
 * are highlighted everywhere.
 */
import { diffDocuments } from '../changes/diff.ts';
import type { Revision } from '../changes/revisions.ts';
import type { ApiChange } from '../changes/rules.ts';
import type { DocsPlane, PublishedApi } from '../snapshot/types.ts';
import { escapeHtml } from './portal/pages.ts';

/** The changelog as JSON: every revision, newest first, with its changes. */
export function changelogJson(revisions: readonly Revision[], api?: PublishedApi): unknown {
  return {
    ...(api ? { api: api.ref } : {}),
    revisions: revisions.map((r) => ({
      api: r.api,
      version: r.version,
      revision: r.revision,
      at: r.at,
      source: r.source,
      hash: r.hash,
      ...(r.generation !== undefined ? { generation: r.generation } : {}),
      breaking: r.breaking,
      changes: r.changes,
    })),
  };
}

/** Where a revision is described on the HTML changelog of its API. */
function anchor(r: Revision): string {
  return `${r.version}-r${r.revision}`;
}

function apiOf(plane: DocsPlane, ref: string): PublishedApi | undefined {
  return plane.apis.find((a) => a.ref === ref);
}

function title(plane: DocsPlane, r: Revision): string {
  const api = apiOf(plane, r.api);
  const name = api?.title ?? r.api.split('/').slice(1).join('/');
  const what =
    r.revision === 1
      ? 'first published'
      : r.changes.length === 0
        ? 'document changed (no API changes)'
        : `${r.changes.length} change(s)${r.breaking > 0 ? `, ${r.breaking} breaking` : ''}`;
  return `${r.breaking > 0 ? '[BREAKING] ' : ''}${name} ${r.version} revision ${r.revision}: ${what}`;
}

/** The changelog as an Atom feed (RFC 4287); `base` is the absolute URL of the portal root (public URL + prefix). */
export function changelogAtom(
  plane: DocsPlane,
  revisions: readonly Revision[],
  base: string,
  api?: PublishedApi,
): string {
  const selfPath = api ? `changelog/${api.namespace}/${api.name}` : 'changelog';
  const updated = revisions[0]?.at ?? new Date(0).toISOString();
  const entries = revisions.map((r) => {
    const [, ns, name] = r.api.split('/');
    const link = `${base}/changelog/${ns}/${name}#${anchor(r)}`;
    const body = r.changes.length > 0 ? changeListHtml(r.changes) : '<p>No API changes.</p>';
    return `<entry>
<title>${escapeXml(title(plane, r))}</title>
<id>${escapeXml(link)}</id>
<updated>${r.at}</updated>
<link rel="alternate" type="text/html" href="${escapeXml(link)}"/>
<category term="${r.breaking > 0 ? 'breaking' : 'compatible'}"/>
<content type="html">${escapeXml(body)}</content>
</entry>`;
  });
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>${escapeXml(`${api ? api.title : plane.title} — API changelog`)}</title>
<id>${escapeXml(`${base}/${selfPath}.atom`)}</id>
<updated>${updated}</updated>
<link rel="self" type="application/atom+xml" href="${escapeXml(`${base}/${selfPath}.atom`)}"/>
<link rel="alternate" type="text/html" href="${escapeXml(`${base}/${selfPath}`)}"/>
<generator>modelgate</generator>
${entries.join('\n')}
</feed>
`;
}

/** The changelog page; `base` is the relative path from the page to the portal root. */
export function changelogHtml(
  plane: DocsPlane,
  revisions: readonly Revision[],
  base: string,
  api?: PublishedApi,
): string {
  const feed = api ? `${base}changelog/${api.namespace}/${api.name}.atom` : `${base}changelog.atom`;
  const items = revisions
    .map((r) => {
      const [, ns, name] = r.api.split('/');
      return `<section id="${escapeHtml(anchor(r))}" class="${r.breaking > 0 ? 'breaking' : ''}">
<h3>${escapeHtml(title(plane, r))}</h3>
<div class="muted">${escapeHtml(r.at)} · source ${escapeHtml(r.source)}${r.generation !== undefined ? ` · generation ${r.generation}` : ''} · <code>${escapeHtml(r.hash.slice(0, 12))}</code>${api ? '' : ` · <a href="${base}changelog/${escapeHtml(ns ?? '')}/${escapeHtml(name ?? '')}">${escapeHtml(`${ns}/${name}`)}</a>`}</div>
${r.changes.length > 0 ? changeListHtml(r.changes) : ''}
</section>`;
    })
    .join('\n');
  return page(
    `${api ? api.title : plane.title} — API changelog`,
    base,
    `${api ? versionsHtml(api, base) : ''}
<p><a href="${feed}">Atom feed</a> · <a href="${api ? `${base}changelog/${api.namespace}/${api.name}.json` : `${base}changelog.json`}">JSON</a></p>
${items || '<p>No revisions recorded yet.</p>'}`,
  );
}

/** The versions of an API with their deprecation, and the migration views between them. */
function versionsHtml(api: PublishedApi, base: string): string {
  const rows = api.versions.map((v, i) => {
    const next = v.successor ?? api.versions[i + 1]?.name;
    const migrate = next
      ? ` · <a href="${base}changelog/${api.namespace}/${api.name}/migrate?from=${encodeURIComponent(v.name)}&amp;to=${encodeURIComponent(next)}">migrating to ${escapeHtml(next)}</a>`
      : '';
    const dep = v.deprecated
      ? ` · <span class="warn">deprecated${v.sunset ? `, sunset ${escapeHtml(v.sunset)}` : ''}${v.successor ? `, successor ${escapeHtml(v.successor)}` : ''}</span>`
      : '';
    return `<li><code>${escapeHtml(v.name)}</code>${dep}${migrate}</li>`;
  });
  return `<h2>Versions</h2><ul>${rows.join('')}</ul>`;
}

/** The diff between two versions of an API: what a consumer of `from` must change to use `to`. */
export function migration(api: PublishedApi, from: string, to: string): ApiChange[] | undefined {
  const a = api.versions.find((v) => v.name === from);
  const b = api.versions.find((v) => v.name === to);
  if (!a || !b) return undefined;
  const strip = (version: string) => {
    const base = `${api.pathPrefix}/versions/${version}`;
    return (path: string) => (path.startsWith(base) ? path.slice(base.length) || '/' : path);
  };
  return diffDocuments(a.part.document, b.part.document, { oldPath: strip(from), newPath: strip(to) });
}

/** The migration view as HTML. */
export function migrationHtml(
  api: PublishedApi,
  from: string,
  to: string,
  changes: readonly ApiChange[],
  base: string,
): string {
  const target = api.versions.find((v) => v.name === to);
  const breaking = changes.filter((c) => c.level === 'breaking').length;
  return page(
    `${api.title}: migrating from ${from} to ${to}`,
    base,
    `<p>${changes.length === 0 ? 'The two versions have the same API: nothing to change.' : `${changes.length} difference(s), <strong>${breaking} breaking</strong>. Operations are compared by their path under the version (<code>${escapeHtml(api.pathPrefix)}/versions/&lt;v&gt;/…</code>).`}</p>
${target ? `<p>Target: <code>${escapeHtml(target.path)}</code> · <a href="${base}docs?urls.primaryName=${encodeURIComponent(`${api.tag} ${to}`)}">${escapeHtml(to)} in Swagger UI</a> · <a href="${base}changelog/${api.namespace}/${api.name}/migrate.json?from=${encodeURIComponent(from)}&amp;to=${encodeURIComponent(to)}">JSON</a></p>` : ''}
${changes.length > 0 ? changeListHtml(changes) : ''}`,
  );
}

function changeListHtml(changes: readonly ApiChange[]): string {
  const items = changes.map(
    (c) =>
      `<li class="${c.level}"><span class="level">${c.level === 'breaking' ? 'BREAKING' : escapeHtml(c.level)}</span> ${c.operation ? `<code>${escapeHtml(c.operation)}</code> ` : ''}${escapeHtml(c.message)} <span class="muted">(<code>${escapeHtml(c.rule)}</code> at <code>${escapeHtml(c.pointer)}</code>)</span></li>`,
  );
  return `<ul class="changes">${items.join('')}</ul>`;
}

function page(heading: string, base: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(heading)}</title>
<link rel="icon" type="image/png" href="${base}docs-assets/favicon.png">
<link rel="stylesheet" href="${base}docs-assets/portal.css">
</head>
<body>
<h1>${escapeHtml(heading)}</h1>
<nav><a href="${base}portal">Model APIs</a><a href="${base}docs">Swagger UI</a><a href="${base}redoc">ReDoc</a><a href="${base}changelog">Changelog</a></nav>
${body}
</body>
</html>
`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
