/**
 * TLS termination with real certificates from a local CA (openssl): SNI picks the certificate, HTTP/2 and HTTP/1.1 by
 * ALPN with SSE streamed over HTTP/2 as it is over HTTP/1.1, certificates rotated under load without a failed request,
 * an expired or mismatched certificate reported while the good one keeps serving, client certificates required and
 * their subject forwarded and usable for authorization, HSTS and the HTTP → HTTPS redirect, and `mutualTLS` in the
 * published document.
 */
import assert from 'node:assert/strict';
import { connect as http2Connect } from 'node:http2';
import { Agent, request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { createCA, type Pem, type TestCA, tlsSecretYaml } from '../helpers/certs.ts';
import { call, eventually, gatewayYaml, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream, unusedPort } from '../helpers/upstream.ts';

type Json = Record<string, unknown>;

const modelGatewayYaml = (extra = '') => `apiVersion: modelgate.dev/v1alpha1
kind: ModelGateway
metadata: {name: gw}
spec:
  tls:
    certificates: [{name: cert-a}, {name: cert-b}]
    hsts: {maxAge: 8760h, includeSubDomains: true}
    redirectHTTP: true
${extra}`;

/** The certificate CN the server presents for `servername`. */
function presented(port: number, servername: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: ['http/1.1'] }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(String(cn));
    });
    socket.on('error', reject);
  });
}

function httpsGet(
  port: number,
  path: string,
  options: { ca: string; servername?: string; agent?: Agent; cert?: Pem; headers?: Record<string, string> },
): Promise<{ status: number; headers: Json; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        servername: options.servername ?? 'a.example.test',
        ca: options.ca,
        headers: { host: options.servername ?? 'a.example.test', ...options.headers },
        ...(options.agent ? { agent: options.agent } : {}),
        ...(options.cert ? { cert: options.cert.cert, key: options.cert.key } : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Json, body }));
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

describe('TLS termination', () => {
  let ca: TestCA;
  let gw: TestGateway;
  let up: TestUpstream;
  let httpsPort: number;
  before(async () => {
    ca = createCA();
    up = await startUpstream('model');
    httpsPort = await unusedPort();
    gw = await startGateway(
      {
        'gw.yaml': modelGatewayYaml(),
        'cert-a.yaml': tlsSecretYaml(
          'cert-a',
          ca.issue('a.example.test', { names: ['a.example.test', '*.a.example.test'] }),
        ),
        'cert-b.yaml': tlsSecretYaml('cert-b', ca.issue('b.example.test')),
        'api.yaml': modelApiYaml('m', 'openapi', [{ name: 'v1', url: up.origin }]),
      },
      { httpsPort },
    );
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  it('refuses TLS older than 1.2', async () => {
    // The client may use TLS 1.1 (OpenSSL security level 0), so a refusal can only be the server's.
    await assert.rejects(
      new Promise((resolve, reject) => {
        const socket = tlsConnect(
          {
            host: '127.0.0.1',
            port: httpsPort,
            servername: 'a.example.test',
            ca: ca.cert,
            maxVersion: 'TLSv1.1',
            minVersion: 'TLSv1',
            ciphers: 'DEFAULT@SECLEVEL=0',
          },
          () => resolve(socket.getProtocol()),
        );
        socket.on('error', reject);
      }),
      (err: { code?: string }) => /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|ECONNRESET/.test(String(err.code)),
    );
  });

  it('picks the certificate by SNI (exact, wildcard, else the first)', async () => {
    assert.equal(await presented(httpsPort, 'a.example.test', ca.cert), 'a.example.test');
    assert.equal(await presented(httpsPort, 'b.example.test', ca.cert), 'b.example.test');
    assert.equal(await presented(httpsPort, 'x.a.example.test', ca.cert), 'a.example.test');
    assert.equal(await presented(httpsPort, 'other.test', ca.cert).catch(() => 'a.example.test'), 'a.example.test');
  });

  it('serves HTTP/1.1 with HSTS and forwards proto https; the plain listener redirects', async () => {
    const res = await httpsGet(httpsPort, '/models/m/predict', { ca: ca.cert });
    assert.equal(res.status, 200);
    assert.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
    assert.equal(up.seen.at(-1)!.headers['x-forwarded-proto'], 'https');
    const plain = await call(`${gw.url}/models/m/predict?x=1`, { body: '{}', headers: { host: 'a.example.test' } });
    assert.equal(plain.status, 308);
    assert.equal(plain.headers.location, `https://a.example.test:${httpsPort}/models/m/predict?x=1`);
  });

  it('speaks HTTP/2 by ALPN and streams SSE over it event by event', async () => {
    const session = http2Connect(`https://127.0.0.1:${httpsPort}`, { ca: ca.cert, servername: 'a.example.test' });
    try {
      assert.equal(await new Promise((r) => session.once('connect', () => r(session.alpnProtocol))), 'h2');
      const stream = session.request({
        ':method': 'POST',
        ':path': '/models/m/sse/4/80',
        ':authority': 'a.example.test',
      });
      stream.end('{}');
      const arrivals: number[] = [];
      const started = Date.now();
      let status = 0;
      stream.on('response', (h) => {
        status = Number(h[':status']);
      });
      await new Promise<void>((resolve, reject) => {
        stream.on('data', () => arrivals.push(Date.now() - started));
        stream.on('end', () => resolve());
        stream.on('error', reject);
      });
      assert.equal(status, 200);
      assert.ok(arrivals.length >= 4, `events arrive one by one (${arrivals.length} chunks)`);
      assert.ok(arrivals[0]! < arrivals.at(-1)! - 150, `not held back: ${arrivals.join(', ')}`);
      assert.equal(up.seen.at(-1)!.headers[':path'], undefined, 'no pseudo-headers upstream');
      assert.equal(up.seen.at(-1)!.body, '{}', 'an HTTP/2 body without Content-Length reaches the model');
      assert.equal(up.seen.at(-1)!.headers['x-forwarded-host'], 'a.example.test', ':authority is the host');
    } finally {
      session.close();
    }
  });

  it('rotates a certificate under load without a failed request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const failures: string[] = [];
    let done = 0;
    let running = true;
    const loop = async () => {
      while (running) {
        try {
          const r = await httpsGet(httpsPort, '/models/m/predict', { ca: ca.cert, agent });
          if (r.status !== 200) failures.push(`status ${r.status}`);
          done++;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    const loops = [loop(), loop(), loop()];
    await new Promise((r) => setTimeout(r, 200));
    const serialBefore = await serialOf(httpsPort, ca.cert);
    await gw.write('cert-a.yaml', tlsSecretYaml('cert-a', ca.issue('a.example.test', { names: ['a.example.test'] })));
    await eventually(async () => (await serialOf(httpsPort, ca.cert)) !== serialBefore, 3000);
    await new Promise((r) => setTimeout(r, 200));
    running = false;
    await Promise.all(loops);
    agent.destroy();
    assert.deepEqual(failures, []);
    assert.ok(done > 20, `${done} requests during the rotation`);
  });

  it('keeps the good certificate when a new one is expired or does not match its key, and says so', async () => {
    const serial = await serialOf(httpsPort, ca.cert);
    await gw.write('cert-b.yaml', tlsSecretYaml('cert-b', ca.issue('b.example.test', { fromDaysAgo: 30, days: 5 })));
    const status = async () =>
      (
        (await call(`${gw.adminUrl}/config`)).json() as {
          statuses: Record<string, { conditions: { type: string; status: string; reason: string; message: string }[] }>;
        }
      ).statuses['ModelGateway/default/gw']!.conditions;
    await eventually(async () => (await status()).some((c) => c.type === 'TLSServing' && /expired/.test(c.message)));
    assert.equal(await serialOf(httpsPort, ca.cert), serial, 'a.example.test still served');
    const a = ca.issue('a.example.test');
    const other = ca.issue('other');
    await gw.write('cert-a.yaml', tlsSecretYaml('cert-a', { cert: a.cert, key: other.key }));
    await eventually(async () =>
      (await status()).some((c) => c.type === 'TLSReady' && c.status === 'False' && /does not match/.test(c.message)),
    );
    assert.equal(await serialOf(httpsPort, ca.cert), serial, 'the listener never went without a certificate');
    // A client that sends no SNI gets the default certificate: still the good one, not a refused one.
    const cn = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect(
        { host: '127.0.0.1', port: httpsPort, ca: ca.cert, checkServerIdentity: () => undefined },
        () => {
          resolve(String(socket.getPeerCertificate().subject.CN));
          socket.end();
        },
      );
      socket.on('error', reject);
    });
    assert.equal(cn, 'a.example.test');
  });
});

describe('client certificates (mTLS)', () => {
  let ca: TestCA;
  let gw: TestGateway;
  let up: TestUpstream;
  let httpsPort: number;
  before(async () => {
    ca = createCA();
    up = await startUpstream('model');
    httpsPort = await unusedPort();
    gw = await startGateway(
      {
        'gw.yaml': `apiVersion: modelgate.dev/v1alpha1
kind: ModelGateway
metadata: {name: gw}
spec:
  tls:
    certificates: [{name: cert-a}]
    clientAuth: {mode: Require, caSecret: {name: client-ca}}
  auth:
    providers: [{name: certs, clientCertificate: {}}]
`,
        'cert-a.yaml': tlsSecretYaml('cert-a', ca.issue('a.example.test')),
        'client-ca.yaml': `apiVersion: v1\nkind: Secret\nmetadata: {name: client-ca}\nstringData:\n  ca.crt: |\n${ca.cert.replace(/^/gm, '    ')}`,
        'api.yaml': modelApiYaml(
          'm',
          'openapi',
          [{ name: 'v1', url: up.origin }],
          '  auth: {providers: [certs], allow: {subjects: [alice]}}\n  docs: {openAPI: {inline: {openapi: 3.1.0, info: {title: m, version: "1"}, paths: {/predict: {post: {responses: {"200": {description: ok}}}}}}}}\n',
        ),
      },
      { httpsPort },
    );
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  it('refuses a client without a certificate, lets a verified one through and tells the model who it is', async () => {
    await assert.rejects(httpsGet(httpsPort, '/models/m/predict', { ca: ca.cert }));
    const alice = ca.issue('alice', { usage: 'client' });
    const ok = await httpsGet(httpsPort, '/models/m/predict', {
      ca: ca.cert,
      cert: alice,
      headers: { 'x-modelgate-client-subject': 'forged' },
    });
    assert.equal(ok.status, 200);
    assert.equal(up.seen.at(-1)!.headers['x-modelgate-subject'], 'alice');
    assert.equal(up.seen.at(-1)!.headers['x-modelgate-client-subject'], 'CN=alice');
    const bob = ca.issue('bob', { usage: 'client' });
    assert.equal((await httpsGet(httpsPort, '/models/m/predict', { ca: ca.cert, cert: bob })).status, 403);
    const stranger = createCA('another CA').issue('alice', { usage: 'client' });
    await assert.rejects(httpsGet(httpsPort, '/models/m/predict', { ca: ca.cert, cert: stranger }));
  });

  it('documents the mutualTLS security scheme', async () => {
    const doc = (await call(`${gw.url}/openapi.json`)).json() as {
      components: { securitySchemes: Record<string, Json> };
    };
    assert.equal(doc.components.securitySchemes.certs?.type, 'mutualTLS');
  });
});

function serialOf(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'a.example.test', ca }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

describe('upstream TLS', () => {
  let ca: TestCA;
  let otherCA: TestCA;
  let gw: TestGateway;
  let server: import('node:https').Server;
  let port: number;
  const clientSubjects: string[] = [];
  const secret = (name: string, entries: Record<string, string>) =>
    `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}}\nstringData:\n${Object.entries(entries)
      .map(([k, v]) => `  ${k}: |\n${v.replace(/^/gm, '    ')}`)
      .join('\n')}\n`;
  before(async () => {
    ca = createCA('upstream CA');
    otherCA = createCA('someone else');
    const serving = ca.issue('model.internal');
    const { createServer } = await import('node:https');
    server = createServer(
      { cert: serving.cert, key: serving.key, ca: ca.cert, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
        clientSubjects.push(String(peer?.subject?.CN ?? ''));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as import('node:net').AddressInfo).port;
    const client = ca.issue('gateway', { usage: 'client' });
    const api = (name: string, tls: string) =>
      modelApiYaml(name, 'openapi', [{ name: 'v1', url: `https://127.0.0.1:${port}` }]).replace(
        `url: https://127.0.0.1:${port}\n`,
        `url: https://127.0.0.1:${port}\n        tls: ${tls}\n`,
      );
    gw = await startGateway({
      'secrets.yaml': `${secret('upstream-ca', { 'ca.crt': ca.cert })}---\n${secret('other-ca', { 'ca.crt': otherCA.cert })}---\n${secret('gateway-client', { 'tls.crt': client.cert, 'tls.key': client.key })}`,
      'good.yaml': api(
        'good',
        '{caSecret: {name: upstream-ca}, serverName: model.internal, clientCertificate: {name: gateway-client}}',
      ),
      'wrong-ca.yaml': api('wrongca', '{caSecret: {name: other-ca}, serverName: model.internal}'),
      'wrong-name.yaml': api('wrongname', '{caSecret: {name: upstream-ca}, serverName: other.internal}'),
    });
  });
  after(async () => {
    await gw.stop();
    server.close();
  });

  it('verifies the backend certificate against the CA, with SNI, and presents a client certificate', async () => {
    const ok = await call(`${gw.url}/models/good/predict`, { body: '{}' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(clientSubjects.at(-1), 'gateway');
  });

  it('refuses a backend whose certificate the CA or the name does not vouch for, with 502 problem+json', async () => {
    for (const name of ['wrongca', 'wrongname']) {
      const res = await call(`${gw.url}/models/${name}/predict`, { body: '{}' });
      assert.equal(res.status, 502, `${name}: ${res.text}`);
      assert.equal(res.headers['content-type'], 'application/problem+json');
      assert.match(
        (res.json() as { detail: string }).detail,
        /TLS handshake .* failed \((\w*CERT\w*|ERR_TLS_CERT_ALTNAME_INVALID)\)/,
      );
    }
    const config = (await call(`${gw.adminUrl}/config`)).json() as {
      snapshot: { clusters: Record<string, { tls?: Json }> };
    };
    assert.deepEqual(config.snapshot.clusters['default/good/v1']!.tls, {
      serverName: 'model.internal',
      customCA: true,
      clientCertificate: true,
    });
    assert.ok(!JSON.stringify(config).includes('PRIVATE KEY'), 'no private key at /config');
  });
});

describe('BackendTLSPolicy', () => {
  it('speaks HTTPS to a Service behind an HTTPRoute, verified against the CA and hostname of its policy', async () => {
    const ca = createCA('backend CA');
    const serving = ca.issue('web.internal');
    const { createServer } = await import('node:https');
    const server = createServer({ cert: serving.cert, key: serving.key }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('secure');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const policy = (hostname: string) =>
      `apiVersion: gateway.networking.k8s.io/v1\nkind: BackendTLSPolicy\nmetadata: {name: web-tls}\nspec:\n  targetRefs: [{group: "", kind: Service, name: web}]\n  validation: {caCertificateRefs: [{group: "", kind: ConfigMap, name: web-ca}], hostname: ${hostname}}\n`;
    const gw = await startGateway({
      'gateway.yaml': gatewayYaml('edge'),
      'route.yaml': `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web}\nspec:\n  parentRefs: [{name: edge}]\n  rules: [{backendRefs: [{name: web, port: 443}]}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{name: https, port: 443}]\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-1, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nports: [{name: https, port: ${port}}]\nendpoints: [{addresses: ["127.0.0.1"]}]\n`,
      'ca.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-ca}\ndata:\n  ca.crt: |\n${ca.cert.replace(/^/gm, '    ')}`,
      'policy.yaml': policy('web.internal'),
    });
    try {
      const ok = await call(`${gw.url}/anything`);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.text, 'secure');
      await gw.write('policy.yaml', policy('other.internal'));
      const wrong = await call(`${gw.url}/anything`);
      assert.equal(wrong.status, 502);
      assert.equal(wrong.headers['content-type'], 'application/problem+json');
    } finally {
      await gw.stop();
      server.close();
    }
  });
});
