/**
 * The docs UI's static assets, read from the npm packages that ship them (swagger-ui-dist, redoc) and from this
 * folder, served by the gateway itself: no CDN, so the portal works in offline clusters. Files are read once, on
 * first use, and kept in memory with their ETag.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** One servable asset. */
export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));
const here = dirname(new URL(import.meta.url).pathname);

/** Asset name (as served under `docs-assets/`) → where it comes from. */
const SOURCES: Record<string, { file: () => string; type: string }> = {
  'swagger-ui.css': { file: () => join(packageDir('swagger-ui-dist'), 'swagger-ui.css'), type: 'text/css' },
  'swagger-ui-bundle.js': {
    file: () => join(packageDir('swagger-ui-dist'), 'swagger-ui-bundle.js'),
    type: 'text/javascript',
  },
  'swagger-ui-standalone-preset.js': {
    file: () => join(packageDir('swagger-ui-dist'), 'swagger-ui-standalone-preset.js'),
    type: 'text/javascript',
  },
  'favicon.png': { file: () => join(packageDir('swagger-ui-dist'), 'favicon-32x32.png'), type: 'image/png' },
  'redoc.standalone.js': {
    file: () => join(packageDir('redoc'), 'bundles', 'redoc.standalone.js'),
    type: 'text/javascript',
  },
  'swagger-init.js': { file: () => join(here, 'swagger-init.js'), type: 'text/javascript' },
  'portal.css': { file: () => join(here, 'portal.css'), type: 'text/css' },
};

const cache = new Map<string, Asset>();

/** Names of every asset. */
export const ASSET_NAMES: readonly string[] = Object.keys(SOURCES);

/** The asset, loaded on first use; undefined for unknown names. */
export function asset(name: string): Asset | undefined {
  const cached = cache.get(name);
  if (cached) return cached;
  const source = SOURCES[name];
  if (!source) return undefined;
  const body = readFileSync(source.file());
  const loaded = {
    body,
    contentType: `${source.type}${source.type.startsWith('text/') ? '; charset=utf-8' : ''}`,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
  cache.set(name, loaded);
  return loaded;
}
