/**
 * Differential fuzzing of the two upstream transports with a fixed seed (the same cases on every run): generated and
 * mutated responses (helpers/response-fuzz.ts) through the native client and undici must give the same status,
 * headers, body, trailers, failure and connection reuse. `npm run fuzz` runs the same comparison for longer with
 * fresh seeds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareCase, generate } from '../helpers/response-fuzz.ts';

const SEED = 20261202;
const CASES = 200;

describe('transport differential fuzzing (fixed seed)', () => {
  it(`${CASES} generated responses: the native client and undici agree`, async () => {
    const problems: string[] = [];
    let failures = 0;
    // Eight cases at a time (each has its own upstream and pools); the verdicts do not depend on the order.
    const seeds = Array.from({ length: CASES }, (_, i) => SEED + i);
    const worker = async () => {
      for (let seed = seeds.shift(); seed !== undefined; seed = seeds.shift()) {
        const c = generate(seed);
        const { native, problems: d } = await compareCase(c);
        if (!native.ok) failures++;
        if (d.length > 0)
          problems.push(
            `seed ${c.seed} (mutations ${c.mutated || 'none'}): ${d.join('; ')}\n  ${JSON.stringify(c.response.toString('latin1').slice(0, 300))}`,
          );
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.deepEqual(problems, []);
    // The generator is worth its time only if it makes both kinds of case.
    assert.ok(failures > CASES / 10 && failures < CASES - CASES / 10, `${failures} of ${CASES} cases failed`);
  });
});
