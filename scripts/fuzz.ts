/**
 * The long differential fuzz run: `npm run fuzz [-- --minutes 10] [--seed N]`. Fresh seeds (printed, so a finding
 * can be replayed with --seed) until the time is up: generated upstream responses through both upstream transports,
 * and (with nginx installed) mutated client requests through the gateway and nginx. Every disagreement is printed
 * and the exit code is 1 if there was one. `npm test` runs the same comparisons on fixed seeds.
 */
import { parseArgs } from 'node:util';
import { startGateway } from '../test/helpers/gateway.ts';
import { echoUpstream, nginxInstalled, startNginx } from '../test/helpers/nginx.ts';
import { compareRequests, REQUEST_SEEDS } from '../test/helpers/request-fuzz.ts';
import { compareCase, generate, prng } from '../test/helpers/response-fuzz.ts';

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
    const { native, undici, problems: d } = await compareCase(c);
    cases++;
    if (!native.ok) failed++;
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

let requests = 0;
let requestProblems = 0;
/** Mutated client requests, gateway next to nginx, in batches of 50 until the time is up. */
async function requestWorker(): Promise<void> {
  if (!nginxInstalled()) {
    console.log('nginx is not installed: client requests are not fuzzed (apt-get install nginx-light)');
    return;
  }
  const upstream = await echoUpstream();
  const gw = await startGateway({
    'confined.yaml': `apiVersion: modelgate.dev/v1alpha1
kind: ModelAPI
metadata: {name: confined}
spec:
  protocol: openapi
  maxRequestBodyBytes: 100
  versions:
    - name: v1
      backend: {url: "http://127.0.0.1:${upstream.port}/public"}
`,
  });
  const nginx = await startNginx(upstream.port);
  const rng = prng(next + 1_000_003);
  try {
    while (Date.now() < until && !replayOne) {
      const r = await compareRequests(rng, REQUEST_SEEDS, 50, Number(new URL(gw.url).port), nginx.port);
      requests += 50;
      requestProblems += r.problems.length;
      for (const p of r.problems) console.log(`DISAGREE request: ${p}`);
    }
  } finally {
    await gw.stop();
    await nginx.stop();
    await upstream.close();
  }
}

const report = () =>
  console.log(
    `responses: ${cases} cases (${failed} failing), ${disagreements} disagreements; requests: ${requests} sent, ${requestProblems} disagreements`,
  );
const timer = setInterval(report, 30_000);
await Promise.all([...Array.from({ length: replayOne ? 1 : Number(values.parallel) }, worker), requestWorker()]);
clearInterval(timer);
report();
process.exit(disagreements + requestProblems > 0 ? 1 : 0);
