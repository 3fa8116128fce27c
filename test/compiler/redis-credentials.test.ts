/**
 * Redis credentials and TLS from Secrets, against a real redis-server (Debian) that demands them: an ACL user with a
 * password, then TLS with the test CA. The budget is shared only through Redis (two gateway instances spend one), so
 * a limit that holds proves the gateway got in; a wrong password fails open and is counted; rotating the Secret
 * reconnects; a missing Secret is on the ModelGateway's status; a password in the URL is refused; /config shows
 * where the credentials come from, never them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCA } from '../helpers/certs.ts';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { requireSystemPackages } from '../helpers/system-packages.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

requireSystemPackages('redis-server', 'openssl');

const PASSWORD = 'n0t-in-any-log-Rd1s';

function files(redis: string, upstream: string, secret: string): Record<string, string> {
  return {
    'gw.yaml': `apiVersion: modelgate.dev/v1alpha1
kind: ModelGateway
metadata: {name: gw}
spec:
  redis:
${redis}`,
    'secret.yaml': secret,
    'api.yaml': modelApiYaml(
      'shared',
      'openapi',
      [{ name: 'v1', url: upstream }],
      '  rateLimit: {requests: 3, per: 1h, scope: global, key: route}\n',
    ),
  };
}

const USER = 'mg-ratelimit';
const authSecret = (password: string, username: string | undefined = USER) =>
  `apiVersion: v1\nkind: Secret\nmetadata: {name: redis-auth}\nstringData: {${username ? `username: ${username}, ` : ''}password: "${password}"}\n`;

describe('Redis credentials from a Secret (ACL user and password)', () => {
  let redis: TestRedis;
  let up: TestUpstream;
  let a: TestGateway;
  let b: TestGateway;
  const hit = (gw: TestGateway) => call(`${gw.url}/models/shared/predict`, { body: '{}' });
  before(async () => {
    redis = await startRedis({
      args: ['--user', 'default', 'off', '--user', USER, 'on', `>${PASSWORD}`, '~modelgate:*', '+@all'],
    });
    up = await startUpstream('model');
    const config = files(
      `    url: ${redis.url}\n    timeout: 500ms\n    auth: {name: redis-auth}\n`,
      up.origin,
      authSecret(PASSWORD),
    );
    a = await startGateway(config);
    b = await startGateway(config);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await up?.close();
    await redis?.stop();
  });

  it('logs in as the ACL user: two instances spend one budget', async () => {
    const statuses = [];
    for (const gw of [a, b, a, b]) statuses.push((await hit(gw)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.doesNotMatch((await call(`${a.adminUrl}/metrics`)).text, /modelgate_ratelimit_store_errors_total [1-9]/);
  });

  it('/config names the Secret, never the password or the username', async () => {
    const text = (await call(`${a.adminUrl}/config`)).text;
    const redisView = (JSON.parse(text) as { snapshot: { gateway: { redis: Record<string, unknown> } } }).snapshot
      .gateway.redis;
    assert.deepEqual(redisView.auth, { source: 'Secret/default/redis-auth' });
    assert.ok(!text.includes(PASSWORD));
    assert.ok(!text.includes(USER), 'the ACL user name comes from the Secret: not shown either');
  });

  it('a wrong password fails open and is counted; rotating the Secret reconnects', async () => {
    await a.write('secret.yaml', authSecret('wrong-password'));
    await eventually(async () => {
      await hit(a);
      return /modelgate_ratelimit_store_errors_total [1-9]/.test((await call(`${a.adminUrl}/metrics`)).text);
    }, 5000);
    assert.equal((await hit(a)).status, 200, 'fail-open: the request goes through');
    await a.write('secret.yaml', authSecret(PASSWORD));
    await eventually(async () => (await hit(a)).status === 429, 5000);
  });

  it('a missing Secret is on the ModelGateway status', async () => {
    await a.write('secret.yaml', 'apiVersion: v1\nkind: Secret\nmetadata: {name: other}\nstringData: {x: y}\n');
    const status = (await call(`${a.adminUrl}/config`)).json() as {
      statuses: Record<string, { conditions: { type: string; status: string; message: string }[] }>;
    };
    const resolved = status.statuses['ModelGateway/default/gw']?.conditions.find((c) => c.type === 'ResolvedRefs');
    assert.equal(resolved?.status, 'False');
    assert.match(resolved?.message ?? '', /redis: Secret\/default\/redis-auth not found/);
  });

  it('a password in the URL is refused, with where it is', async () => {
    await a.write(
      'gw.yaml',
      files(`    url: redis://:${PASSWORD}@127.0.0.1:${redis.port}\n`, up.origin, '')['gw.yaml']!,
    );
    const config = (await call(`${a.adminUrl}/config`)).text;
    assert.match(config, /gw\.yaml:\d+:\d+: error: ModelGateway\/default\/gw: spec\.redis\.url: carries credentials/);
    assert.ok(!config.includes(PASSWORD));
  });
});

describe('Redis over TLS with the CA from a Secret', () => {
  let redis: TestRedis;
  let up: TestUpstream;
  let gw: TestGateway;
  const ca = createCA('redis test CA');
  const server = ca.issue('localhost', { names: ['localhost'] });
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-redis-tls-'));
    const tls = { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), caFile: join(dir, 'ca.crt') };
    writeFileSync(tls.certFile, server.cert);
    writeFileSync(tls.keyFile, server.key);
    writeFileSync(tls.caFile, ca.cert);
    redis = await startRedis({ tls, args: ['--requirepass', PASSWORD] });
    up = await startUpstream('model');
    const secrets = `${authSecret(PASSWORD, '')}---
apiVersion: v1
kind: Secret
metadata: {name: redis-ca}
stringData:
  ca.crt: |
${ca.cert
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
`;
    gw = await startGateway(
      files(
        `    url: ${redis.url}\n    timeout: 500ms\n    auth: {name: redis-auth}\n    tls: {caSecret: {name: redis-ca}, serverName: localhost}\n`,
        up.origin,
        secrets,
      ),
    );
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
    await redis?.stop();
  });

  it('verifies the server against the CA and limits through it', async () => {
    const hit = () => call(`${gw.url}/models/shared/predict`, { body: '{}' });
    // Until the TLS handshake is done, checks fail open (remaining stays at the full budget of 3); the first check
    // Redis answers takes a token.
    await eventually(async () => /r=2;/.test(String((await hit()).headers.ratelimit)), 5000);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await hit()).status);
    assert.deepEqual(statuses, [200, 200, 429]);
    const config = (await call(`${gw.adminUrl}/config`)).text;
    assert.ok(!config.includes('BEGIN CERTIFICATE'), 'the CA is named, not shown');
    assert.match(config, /"ca": "Secret\/default\/redis-ca"/);
  });

  it('a CA that did not sign the server certificate: no connection (counted), requests fail open', async () => {
    const other = createCA('another CA');
    await gw.write(
      'secret.yaml',
      `${authSecret(PASSWORD, '')}---\napiVersion: v1\nkind: Secret\nmetadata: {name: redis-ca}\nstringData:\n  ca.crt: |\n${other.cert
        .trim()
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n')}\n`,
    );
    await eventually(async () => {
      await call(`${gw.url}/models/shared/predict`, { body: '{}' });
      return /modelgate_ratelimit_store_errors_total [1-9]/.test((await call(`${gw.adminUrl}/metrics`)).text);
    }, 5000);
  });
});
