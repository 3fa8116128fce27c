/**
 * Malformed and unusual client requests, answered by the gateway next to nginx's answers to the same bytes — the
 * reference a reverse proxy is measured against. Same set-up as request-paths.test.ts: the table is
 * test/fixtures/nginx/client-requests.ts, its `nginx` column recorded from nginx 1.22.1 (SOURCES.md) and re-checked
 * against the live nginx where it is installed; `modelgate` says where the gateway answers otherwise, and why.
 *
 * Then differential fuzzing: mutated requests go to both, and the gateway must never forward a request nginx refuses
 * as malformed, never forward to another path than nginx does, and always answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { REQUEST_TABLE as TABLE } from '../fixtures/nginx/client-requests.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { echoUpstream, firstAnswer, type RunningNginx, startNginx } from '../helpers/nginx.ts';
import { compareRequests, REQUEST_SEEDS } from '../helpers/request-fuzz.ts';
import { prng } from '../helpers/response-fuzz.ts';
import { requireSystemPackages } from '../helpers/system-packages.ts';

requireSystemPackages('nginx-light');

describe('client requests: the gateway next to nginx', () => {
  let upstream: Awaited<ReturnType<typeof echoUpstream>>;
  let gw: TestGateway;
  let gwPort: number;
  let nginx: RunningNginx;
  before(async () => {
    upstream = await echoUpstream();
    gw = await startGateway({
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
    gwPort = Number(new URL(gw.url).port);
    nginx = await startNginx(upstream.port);
  });
  after(async () => {
    await gw.stop();
    await nginx.stop();
    await upstream.close();
  });

  for (const c of TABLE) {
    const title = c.modelgate
      ? `${c.modelgate.status} (nginx ${c.nginx.status}: ${c.modelgate.why})`
      : String(c.nginx.status);
    it(`${c.name} → ${title}`, async (t) => {
      const want = c.modelgate
        ? { status: c.modelgate.status, ...(c.modelgate.path ? { path: c.modelgate.path } : {}) }
        : c.nginx;
      assert.deepEqual(await firstAnswer(gwPort, c.bytes), want, 'modelgate');
      assert.deepEqual(await firstAnswer(nginx.port, c.bytes), c.nginx, 'nginx (the recorded column)');
    });
  }

  it('differential fuzzing (fixed seed): never forwards what nginx refuses, or to another path; always answers', async (t) => {
    const { problems, outcomes, stricter } = await compareRequests(prng(1202), REQUEST_SEEDS, 200, gwPort, nginx.port);
    for (const s of stricter) t.diagnostic(`stricter than nginx: ${s}`);
    t.diagnostic(JSON.stringify(outcomes));
    assert.deepEqual(problems, []);
    // Both kinds of case, or the mutations are not worth their time.
    assert.ok(outcomes.bothForwarded > 10 && outcomes.bothRefused > 10, JSON.stringify(outcomes));
  });
});
