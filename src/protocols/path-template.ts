/** Upstream path templates as documents spell them: `{name}`, and `${NAME}` as the official V2 files do. */
export const TEMPLATE = /^\$?\{([^}]+)\}$/;

/** Matches `segments` against the upstream prefix `[literal…]`, where a template segment of the path binds a literal. */
export function matchPrefix(segments: string[], prefix: string[]): { rest: string[]; fixed: string[] } | undefined {
  if (segments.length < prefix.length) return undefined;
  const fixed: string[] = [];
  for (let i = 0; i < prefix.length; i++) {
    const seg = segments[i]!;
    const want = prefix[i]!;
    const template = TEMPLATE.exec(seg);
    if (template) fixed.push(template[1]!);
    else if (decodeURIComponent(seg) !== want) return undefined;
  }
  return { rest: segments.slice(prefix.length), fixed };
}
