/** Credential query parameters are removed as URLSearchParams would name them; everything else keeps its bytes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { withoutCredentialParams } from '../../src/dataplane/consumed-credentials.ts';

describe('withoutCredentialParams', () => {
  it('drops every parameter URLSearchParams reads as a credential name, keeps the rest as sent', () => {
    const cases: [string, string][] = [
      ['api_key=k', ''],
      ['a=1&api_key=k&b=%2F', 'a=1&b=%2F'],
      ['api%5Fkey=k&api_key=j&c', 'c'],
      ['api+key=k', 'api+key=k'],
      ['api_keys=k&xapi_key=k', 'api_keys=k&xapi_key=k'],
      ['a=%zz&api_key', 'a=%zz'],
    ];
    for (const [query, want] of cases) assert.equal(withoutCredentialParams(query, ['api_key']), want, query);
    assert.equal(withoutCredentialParams('api key=k&x=1', ['api key']), 'x=1');
  });

  it('agrees with URLSearchParams on which parameters remain (property)', () => {
    const part = fc.stringMatching(/^[a-z_%+0-9A-F]{0,6}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(part, fc.option(part)), { maxLength: 6 }), (pairs) => {
        const query = pairs.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join('&');
        const left = withoutCredentialParams(query, ['api_key']);
        const reference = [...new URLSearchParams(query).keys()].filter((k) => k !== 'api_key');
        assert.deepEqual([...new URLSearchParams(left).keys()], reference, query);
      }),
      { numRuns: 2000, seed: 1202 },
    );
  });
});
