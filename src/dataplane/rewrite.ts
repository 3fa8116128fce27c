/** Path rewriting as Gateway API's HTTPURLRewriteFilter defines it. */
import type { PathMatch, PathRewrite } from '../snapshot/types.ts';
import { matchedPrefixLength } from './matcher.ts';

/** The upstream path (without query) for a request path matched by `match`. */
export function rewritePath(rewrite: PathRewrite | undefined, match: PathMatch, path: string): string {
  if (rewrite === undefined) return path;
  if (rewrite.type === 'ReplaceFullPath') return rewrite.replaceFullPath;
  const rest = path.slice(matchedPrefixLength(match, path));
  const replacement = rewrite.replacePrefixMatch.endsWith('/')
    ? rewrite.replacePrefixMatch.slice(0, -1)
    : rewrite.replacePrefixMatch;
  const joined = replacement + (rest === '' || rest.startsWith('/') ? rest : `/${rest}`);
  return joined === '' ? '/' : joined;
}
