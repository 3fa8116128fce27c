/**
 * The alias goes back in the answer byte by byte: every split of the stream gives the same result as one piece (a
 * property over random split points), both spacings are rewritten, other ids and other members are left alone, and an
 * SSE event's end is never held back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { modelAliasTap } from '../../src/dataplane/model-alias-tap.ts';

function run(input: string, cuts: number[]): string {
  const tap = modelAliasTap('meta/llama-3', 'fast')(200, {})!;
  const bytes = Buffer.from(input);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(tap.data(bytes.subarray(from, p)));
    from = p;
  }
  const end = tap.end();
  if (end) out.push(end);
  return Buffer.concat(out).toString();
}

const BODY =
  'data: {"id":"1","model":"meta/llama-3","choices":[]}\n\ndata: {"id":"2","model": "meta/llama-3","note":"meta/llama-3"}\n\ndata: {"model":"other"}\n\ndata: [DONE]\n\n';
const EXPECTED =
  'data: {"id":"1","model":"fast","choices":[]}\n\ndata: {"id":"2","model": "fast","note":"meta/llama-3"}\n\ndata: {"model":"other"}\n\ndata: [DONE]\n\n';

describe('model alias in the answer', () => {
  it('rewrites the model member, with either spacing, and nothing else', () => {
    assert.equal(run(BODY, []), EXPECTED);
  });
  it('gives the same bytes however the stream is cut (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: BODY.length }), { maxLength: 12 }), (cuts) => run(BODY, cuts) === EXPECTED),
      { numRuns: 500 },
    );
  });
  it('never holds back the end of an event', () => {
    const tap = modelAliasTap('meta/llama-3', 'fast')(200, {})!;
    const event = 'data: {"model":"meta/llama-3","x":1}\n\n';
    assert.equal(tap.data(Buffer.from(event)).toString(), 'data: {"model":"fast","x":1}\n\n');
    // A chunk ending in the middle of the member holds only that beginning.
    assert.equal(tap.data(Buffer.from('data: {"mod')).toString(), 'data: {');
    assert.equal(tap.data(Buffer.from('el":"meta/llama-3"}\n\n')).toString(), '"model":"fast"}\n\n');
  });
});
