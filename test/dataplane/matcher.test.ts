/**
 * The route matcher as a table of cases (in the spirit of hono's shared router conformance suite): each case is a
 * set of rules and requests with the rule id that must win (or null for no match).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RouteMatcher } from '../../src/dataplane/matcher.ts';
import { rewritePath } from '../../src/dataplane/rewrite.ts';
import type { RouteMatch, RouteRule } from '../../src/snapshot/types.ts';

function rule(id: string, matches: RouteMatch[], hostnames: string[] = []): RouteRule {
  return {
    id,
    source: id,
    hostnames,
    matches,
    action: { type: 'Fail', error: 'routeMisconfigured', detail: '' },
    labels: { api: id, version: '' },
  };
}
const prefix = (value: string, extra: Partial<RouteMatch> = {}): RouteMatch => ({
  path: { type: 'PathPrefix', value },
  ...extra,
});
const exact = (value: string, extra: Partial<RouteMatch> = {}): RouteMatch => ({
  path: { type: 'Exact', value },
  ...extra,
});
const regex = (value: string): RouteMatch => ({ path: { type: 'RegularExpression', value } });

interface Req {
  path: string;
  host?: string;
  method?: string;
  headers?: Record<string, string>;
  query?: string;
}

const cases: { title: string; rules: RouteRule[]; requests: [Req, string | null][] }[] = [
  {
    title: 'prefixes match whole segments, longest first',
    rules: [rule('root', [prefix('/')]), rule('a', [prefix('/a')]), rule('ab', [prefix('/a/b/')])],
    requests: [
      [{ path: '/a' }, 'a'],
      [{ path: '/a/' }, 'a'],
      [{ path: '/ab' }, 'root'],
      [{ path: '/a/b' }, 'ab'],
      [{ path: '/a/b/c/d' }, 'ab'],
      [{ path: '/a/bc' }, 'a'],
      [{ path: '/' }, 'root'],
      [{ path: '/zzz' }, 'root'],
    ],
  },
  {
    title: 'exact beats prefix; regex comes last',
    rules: [rule('re', [regex('/a/[0-9]+')]), rule('pre', [prefix('/a/1')]), rule('ex', [exact('/a/1')])],
    requests: [
      [{ path: '/a/1' }, 'ex'],
      [{ path: '/a/1/x' }, 'pre'],
      [{ path: '/a/22' }, 're'],
      [{ path: '/a/x' }, null],
    ],
  },
  {
    title: 'method, then more headers, then more query params, then order',
    rules: [
      rule('plain', [prefix('/m')]),
      rule('post', [prefix('/m', { method: 'POST' })]),
      rule('h1', [prefix('/m', { headers: [{ type: 'Exact', name: 'X-A', value: '1' }] })]),
      rule('h2', [
        prefix('/m', {
          headers: [
            { type: 'Exact', name: 'x-a', value: '1' },
            { type: 'RegularExpression', name: 'x-b', value: 'b+' },
          ],
        }),
      ]),
      rule('q', [prefix('/m', { queryParams: [{ type: 'Exact', name: 'k', value: 'v' }] })]),
      rule('plain-later', [prefix('/m')]),
    ],
    requests: [
      [{ path: '/m' }, 'plain'],
      [{ path: '/m', method: 'POST' }, 'post'],
      [{ path: '/m', headers: { 'x-a': '1' } }, 'h1'],
      [{ path: '/m', headers: { 'x-a': '1', 'x-b': 'bbb' } }, 'h2'],
      [{ path: '/m', headers: { 'x-a': '1', 'x-b': 'c' } }, 'h1'],
      [{ path: '/m', query: 'k=v' }, 'q'],
      [{ path: '/m', query: 'k=w' }, 'plain'],
      [{ path: '/m', method: 'POST', headers: { 'x-a': '1' } }, 'post'],
    ],
  },
  {
    title: 'hosts: exact, then longest wildcard, then any; fall through when nothing matches',
    rules: [
      rule('any', [prefix('/')]),
      rule('wild', [prefix('/w')], ['*.example.com']),
      rule('deeper', [prefix('/w')], ['*.b.example.com']),
      rule('host', [prefix('/h')], ['a.example.com']),
    ],
    requests: [
      [{ path: '/h', host: 'a.example.com' }, 'host'],
      [{ path: '/w', host: 'a.example.com' }, 'wild'],
      [{ path: '/w', host: 'x.b.example.com' }, 'deeper'],
      [{ path: '/w', host: 'example.com' }, 'any'],
      [{ path: '/h', host: 'other.org' }, 'any'],
    ],
  },
  {
    title: 'a rule with several matches',
    rules: [rule('multi', [exact('/x'), prefix('/y', { method: 'GET' })])],
    requests: [
      [{ path: '/x', method: 'DELETE' }, 'multi'],
      [{ path: '/y/z' }, 'multi'],
      [{ path: '/y/z', method: 'POST' }, null],
    ],
  },
  {
    title: 'nothing configured',
    rules: [],
    requests: [[{ path: '/' }, null]],
  },
];

describe('RouteMatcher', () => {
  for (const c of cases) {
    it(c.title, () => {
      const matcher = new RouteMatcher(c.rules);
      for (const [req, expected] of c.requests) {
        const headers = req.headers ?? {};
        const got = matcher.match({
          path: req.path,
          host: req.host ?? 'localhost',
          method: req.method ?? 'GET',
          query: req.query ?? '',
          header: (n) => headers[n],
        });
        assert.equal(got?.rule.id ?? null, expected, `${JSON.stringify(req)}`);
      }
    });
  }

  it('stays fast-path with 10,000 rules (lookup by map, not scan)', () => {
    const rules = Array.from({ length: 10_000 }, (_, i) => rule(`r${i}`, [prefix(`/models/m${i}`)]));
    const matcher = new RouteMatcher(rules);
    const hit = matcher.match({
      path: '/models/m9999/infer',
      host: '',
      method: 'POST',
      query: '',
      header: () => undefined,
    });
    assert.equal(hit?.rule.id, 'r9999');
  });
});

describe('rewritePath', () => {
  const cases: [string, RouteMatch['path'], Parameters<typeof rewritePath>[0], string][] = [
    [
      '/models/iris/infer',
      { type: 'PathPrefix', value: '/models/iris' },
      { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2/models/x' },
      '/v2/models/x/infer',
    ],
    [
      '/models/iris',
      { type: 'PathPrefix', value: '/models/iris' },
      { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2/models/x' },
      '/v2/models/x',
    ],
    [
      '/models/iris/',
      { type: 'PathPrefix', value: '/models/iris/' },
      { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' },
      '/',
    ],
    ['/p/a/b', { type: 'PathPrefix', value: '/p' }, { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' }, '/a/b'],
    ['/p', { type: 'PathPrefix', value: '/p' }, { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' }, '/'],
    ['/p/a', { type: 'PathPrefix', value: '/p' }, { type: 'ReplacePrefixMatch', replacePrefixMatch: '/q/' }, '/q/a'],
    ['/a/b', { type: 'PathPrefix', value: '/' }, { type: 'ReplacePrefixMatch', replacePrefixMatch: '/x' }, '/x/a/b'],
    [
      '/k:predict',
      { type: 'Exact', value: '/k:predict' },
      { type: 'ReplaceFullPath', replaceFullPath: '/v1/models/k:predict' },
      '/v1/models/k:predict',
    ],
    ['/same', { type: 'Exact', value: '/same' }, undefined, '/same'],
  ];
  for (const [path, match, rewrite, expected] of cases) {
    it(`${path} → ${expected}`, () => assert.equal(rewritePath(rewrite, match, path), expected));
  }
});
