/** The admin listener: health, readiness, metrics and the /config view. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PUBLIC_URL } from '../../src/compiler/defaults.ts';
import { call, modelApiYaml, startGateway } from '../helpers/gateway.ts';
import { startUpstream } from '../helpers/upstream.ts';

describe('admin listener', () => {
  it('serves /healthz, /readyz, /metrics and /config', async () => {
    const up = await startUpstream('a');
    const gw = await startGateway({ 'm.yaml': modelApiYaml('m', 'openapi', [{ name: 'v1', url: up.origin }]) });
    try {
      assert.equal((await fetch(`${gw.adminUrl}/healthz`)).status, 200);
      assert.equal((await fetch(`${gw.adminUrl}/readyz`)).status, 200);
      await call(`${gw.url}/models/m/x`);
      await call(`${gw.url}/missing`);
      const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
      assert.match(metrics, /modelgate_requests_total\{namespace="default",api="m",version="v1",code="200"\} 1/);
      assert.match(metrics, /modelgate_requests_total\{namespace="",api="",version="",code="404"\} 1/);
      assert.match(
        metrics,
        /modelgate_request_duration_seconds_bucket\{le="0.005",namespace="default",api="m",version="v1"\}/,
      );
      const config = (await (await fetch(`${gw.adminUrl}/config`)).json()) as {
        snapshot: { apis: { name: string }[] };
        statuses: Record<
          string,
          { url: string; conditions: { type: string; status: string; lastTransitionTime: string }[] }
        >;
      };
      assert.deepEqual(
        config.snapshot.apis.map((a) => a.name),
        ['m'],
      );
      const status = config.statuses['ModelAPI/default/m']!;
      // No ModelGateway and no --public-url: the compiler's default public URL (nothing listens there in this test).
      assert.equal(status.url, `${DEFAULT_PUBLIC_URL}/models/m`);
      assert.deepEqual(
        status.conditions.map((c) => `${c.type}=${c.status}`),
        // A REST API without a description is served but not documented, and says so.
        ['Accepted=True', 'ResolvedRefs=True', 'Ready=True', 'Documented=False'],
      );
      assert.ok(!Number.isNaN(Date.parse(status.conditions[0]!.lastTransitionTime)));
      assert.equal((await fetch(`${gw.adminUrl}/nope`)).status, 404);
    } finally {
      await gw.stop();
      await up.close();
    }
  });

  it('is not ready without a valid configuration, and while draining', async () => {
    const gw = await startGateway({ 'bad.yaml': 'kind: [' });
    try {
      assert.equal((await fetch(`${gw.adminUrl}/readyz`)).status, 503);
      const res = await call(`${gw.url}/anything`);
      assert.equal(res.status, 503);
      assert.equal((res.json() as { code: string }).code, 'MG-503-UPSTREAM-UNAVAILABLE');
    } finally {
      await gw.stop();
    }
  });

  it('keeps lastTransitionTime when a condition does not change', async () => {
    const up = await startUpstream('a');
    const gw = await startGateway({ 'm.yaml': modelApiYaml('m', 'openapi', [{ name: 'v1', url: up.origin }]) });
    try {
      const first = gw.gateway.statuses.get('ModelAPI/default/m')!.conditions[0]!.lastTransitionTime;
      await new Promise((r) => setTimeout(r, 20));
      await gw.write('m.yaml', modelApiYaml('m', 'openapi', [{ name: 'v1', url: up.origin, weight: 5 }]));
      assert.equal(gw.gateway.statuses.get('ModelAPI/default/m')!.conditions[0]!.lastTransitionTime, first);
    } finally {
      await gw.stop();
      await up.close();
    }
  });
});
