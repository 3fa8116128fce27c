/**
 * The long differential fuzz run: `npm run fuzz [-- --minutes 10] [--seed N]`. Fresh seeds (printed, so a finding
 * can be replayed with --seed) through both upstream transports until the time is up; every disagreement is printed
 * and the exit code is 1 if there was one. `npm test` runs the same comparison on a fixed seed.
 */
import { parseArgs } from 'node:util';
import { disagreement, generate, run } from '../test/helpers/response-fuzz.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string' },
    parallel: { type: 'string', default: '8' },
  },
});
const until = Date.now() + Number(values.minutes) * 60_000;
let next = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const replayOne = values.seed !== undefined && values.minutes === '10';
console.log(`fuzzing the upstream transports from seed ${next} for ${values.minutes} min`);
let cases = 0;
let failed = 0;
let disagreements = 0;

async function worker(): Promise<void> {
  while (Date.now() < until) {
    const seed = next++;
    const c = generate(seed);
    const [native, undici] = await Promise.all([run('native', c), run('undici', c)]);
    cases++;
    if (!native.ok) failed++;
    const d = disagreement(native, undici, c);
    if (d.length > 0) {
      disagreements++;
      console.log(`DISAGREE seed ${seed} (mutations ${c.mutated || 'none'}): ${d.join('; ')}`);
      console.log(`  response: ${JSON.stringify(c.response.toString('latin1').slice(0, 400))}`);
      console.log(
        `  native: ${JSON.stringify(native).slice(0, 300)}\n  undici: ${JSON.stringify(undici).slice(0, 300)}`,
      );
    }
    if (replayOne) return;
  }
}

const timer = setInterval(
  () => console.log(`${cases} cases (${failed} failing responses), ${disagreements} disagreements`),
  30_000,
);
await Promise.all(Array.from({ length: replayOne ? 1 : Number(values.parallel) }, worker));
clearInterval(timer);
console.log(`${cases} cases (${failed} failing responses), ${disagreements} disagreements`);
process.exit(disagreements > 0 ? 1 : 0);
