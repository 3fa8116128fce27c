/**
 * A truthful Ready: when every endpoint of a version fails its active health check, requests to it are answered 503
 * and the ModelAPI's Ready condition says so (NoHealthyEndpoints, naming the version); when an endpoint passes again,
 * Ready comes back. Real upstream on loopback, real health checker.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { call, eventually, modelApiYaml, startGateway } from '../helpers/gateway.ts';
import { startUpstream } from '../helpers/upstream.ts';

describe('Ready follows the health checks', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers) await close();
  });

  it('goes False with NoHealthyEndpoints while no endpoint is healthy, and True again after', async () => {
    let healthy = true;
    const upstream = await startUpstream('m', (req, res) => {
      if (req.url !== '/health') return false;
      res.writeHead(healthy ? 200 : 503);
      res.end();
      return true;
    });
    closers.push(() => upstream.close());
    const gw = await startGateway({
      'm.yaml': modelApiYaml(
        'flaky',
        'openapi',
        [{ name: 'v1', url: upstream.origin }],
        '  healthCheck: {active: {path: /health, interval: 30ms, healthyThreshold: 1, unhealthyThreshold: 1}}\n',
      ),
    });
    closers.push(() => gw.stop());
    const ready = () => gw.gateway.statuses.get('ModelAPI/default/flaky')?.conditions.find((c) => c.type === 'Ready');
    await eventually(() => ready()?.status === 'True');

    healthy = false;
    await eventually(() => ready()?.reason === 'NoHealthyEndpoints');
    assert.equal(ready()?.status, 'False');
    assert.match(ready()?.message ?? '', /version\(s\) v1 \(0 of 1\)/);
    assert.equal((await call(`${gw.url}/models/flaky/x`)).status, 503);
    assert.equal(
      gw.gateway.statuses.get('ModelAPI/default/flaky')?.conditions.filter((c) => c.type === 'Ready').length,
      1,
      'one Ready condition, the health verdict in place of the compiler’s',
    );

    healthy = true;
    await eventually(() => ready()?.status === 'True');
    assert.equal((await call(`${gw.url}/models/flaky/x`)).status, 200);
  });
});
