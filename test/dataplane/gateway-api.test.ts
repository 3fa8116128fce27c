/**
 * Gateway API in file mode through a real gateway: HTTPRoutes share the data plane with ModelAPIs, a conflict between
 * them is reported on both, and a Service that declares its OpenAPI document (annotation `modelgate.dev/openapi-path`)
 * is documented in the merged document under the route's public paths. (The upstream conformance cases run in CI
 * through `npm run conformance`.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, eventually, gatewayYaml, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

const SHOP_OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'shop', version: '1' },
  paths: {
    '/items/{id}': {
      get: {
        operationId: 'getItem',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'An item' } },
      },
    },
    '/internal/metrics': { get: { responses: { 200: { description: 'not routed' } } } },
  },
};

describe('Gateway API in file mode', () => {
  let gw: TestGateway;
  let shop: TestUpstream;
  let model: TestUpstream;
  before(async () => {
    shop = await startUpstream('shop', (req, res) => {
      if (req.url !== '/openapi.json') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(SHOP_OPENAPI));
      return true;
    });
    model = await startUpstream('model');
    gw = await startGateway({
      'gateway.yaml': gatewayYaml(),
      'shop.yaml': `apiVersion: v1
kind: Service
metadata:
  name: shop
  annotations: {modelgate.dev/openapi-path: /openapi.json}
spec: {ports: [{name: http, port: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: shop-1, labels: {kubernetes.io/service-name: shop}}
addressType: IPv4
ports: [{name: http, port: ${shop.port}}]
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop}
spec:
  parentRefs: [{name: gw}]
  rules:
    - matches: [{path: {type: PathPrefix, value: /shop}}]
      filters:
        - {type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /items}}}
        - {type: ResponseHeaderModifier, responseHeaderModifier: {add: [{name: X-Shop, value: "yes"}]}}
      backendRefs: [{name: shop, port: 8080}]
    - matches: [{path: {type: PathPrefix, value: /models/scorer}}]
      backendRefs: [{name: shop, port: 8080}]
`,
      'scorer.yaml': modelApiYaml('scorer', 'openapi', [{ name: 'v1', url: model.origin }]),
    });
  });
  after(async () => {
    await gw.stop();
    await shop.close();
    await model.close();
  });

  it('routes HTTPRoutes and ModelAPIs through one data plane, with route filters', async () => {
    const routed = await call(`${gw.url}/shop/42`);
    assert.equal(routed.status, 200);
    assert.equal((routed.json() as { name: string; url: string }).url, '/items/42');
    assert.equal(routed.headers['x-shop'], 'yes');
    const modelAnswer = await call(`${gw.url}/models/scorer/predict`, { body: '{}' });
    assert.equal((modelAnswer.json() as { name: string }).name, 'model', 'the ModelAPI keeps its path');
  });

  it('reports a ModelAPI/HTTPRoute conflict on both', () => {
    const route = gw.gateway.statuses.get('HTTPRoute/default/shop')!;
    const api = gw.gateway.statuses.get('ModelAPI/default/scorer')!;
    assert.match(route.conditions.find((c) => c.type === 'Conflicted')!.message, /served by ModelAPI\/default\/scorer/);
    assert.match(api.conditions.find((c) => c.type === 'Conflicted')!.message, /HTTPRoute\/default\/shop also routes/);
  });

  it("documents an annotated Service under the route's public paths", async () => {
    await eventually(async () => {
      const doc = (await call(`${gw.url}/openapi.json`)).json() as { paths: Record<string, unknown> };
      return doc.paths['/shop/{id}'] !== undefined;
    }, 5000);
    const doc = (await call(`${gw.url}/openapi.json`)).json() as {
      paths: Record<string, { get?: { operationId: string; tags: string[] } }>;
    };
    assert.equal(doc.paths['/shop/{id}']!.get!.operationId, 'shop_getItem');
    assert.deepEqual(doc.paths['/shop/{id}']!.get!.tags, ['default/shop']);
    assert.equal(doc.paths['/internal/metrics'], undefined, 'paths the route does not expose stay out');
    const documented = gw.gateway.statuses
      .get('HTTPRoute/default/shop')!
      .conditions.find((c) => c.type === 'Documented')!;
    assert.equal(documented.status, 'True');
    const portal = await call(`${gw.url}/portal`);
    assert.equal(portal.status, 200, 'with Gateways served the landing page is at /portal');
    assert.equal((await call(`${gw.url}/`)).status, 404, 'and an unmatched / is a 404');
  });
});

describe('Gateway API: mirrors and listener status', () => {
  let gw: TestGateway;
  let main: TestUpstream;
  let shadow: TestUpstream;
  const service = (name: string, port: number) =>
    `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec: {ports: [{name: http, port: 80}]}\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: ${name}-1, labels: {kubernetes.io/service-name: ${name}}}\naddressType: IPv4\nports: [{name: http, port: ${port}}]\nendpoints: [{addresses: ["127.0.0.1"]}]\n`;
  before(async () => {
    main = await startUpstream('main');
    shadow = await startUpstream('shadow');
    gw = await startGateway({
      'gateway.yaml': gatewayYaml(
        'gw',
        '[{name: http, port: 80, protocol: HTTP}, {name: tcp, port: 9000, protocol: TCP}]',
      ),
      'route.yaml': `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: mirrored}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
    - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: shadow, port: 80}}}]
      backendRefs: [{name: main, port: 80}]
`,
      'services.yaml': `${service('main', main.port)}---\n${service('shadow', shadow.port)}`,
    });
  });
  after(async () => {
    await gw.stop();
    await main.close();
    await shadow.close();
  });

  it('mirrors requests with bodies, the same bytes to the mirror, the answer from the backend', async () => {
    const body = JSON.stringify({ inputs: [1, 2, 3], note: 'x'.repeat(5000) });
    const res = await call(`${gw.url}/score`, { body, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal((res.json() as { name: string }).name, 'main');
    await eventually(() => shadow.seen.length === 1);
    assert.equal(shadow.seen[0]!.body, body);
    assert.equal(main.seen.at(-1)!.body, body);
  });

  it("reports each listener's supported kinds, attached routes and conditions", async () => {
    const config = (await call(`${gw.adminUrl}/config`)).json() as {
      statuses: Record<
        string,
        {
          listeners: {
            name: string;
            attachedRoutes: number;
            conditions: { type: string; status: string; reason: string }[];
          }[];
        }
      >;
    };
    const listeners = config.statuses['Gateway/default/gw']!.listeners;
    assert.equal(listeners[0]!.attachedRoutes, 1);
    assert.equal(listeners[1]!.conditions.find((c) => c.type === 'Accepted')?.reason, 'UnsupportedProtocol');
  });
});

describe('Gateway API: user patterns run in linear time', () => {
  let gw: TestGateway;
  let up: TestUpstream;
  before(async () => {
    up = await startUpstream('up');
    gw = await startGateway({
      'gateway.yaml': gatewayYaml(),
      'routes.yaml': `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: redos}
spec:
  parentRefs: [{name: gw}]
  rules:
    - matches:
        - path: {type: RegularExpression, value: "/(a+)+"}
        - path: {type: PathPrefix, value: /h}
          headers: [{type: RegularExpression, name: x-probe, value: "(a|aa)+"}]
      backendRefs: [{name: up, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: up}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: up-1, labels: {kubernetes.io/service-name: up}}
addressType: IPv4
ports: [{name: http, port: ${up.port}}]
endpoints: [{addresses: ["127.0.0.1"]}]
`,
    });
  });
  after(async () => {
    await gw.stop();
    await up.close();
  });

  it('a catastrophic-backtracking pattern answers at once (a backtracking engine would take longer than the test)', async () => {
    // 2^40 backtracking steps for a backtracking engine on either input; RE2 reads each character once.
    const evil = `/${'a'.repeat(40)}!`;
    assert.equal((await call(`${gw.url}${evil}`)).status, 404);
    assert.equal((await call(`${gw.url}/${'a'.repeat(40)}`)).status, 200);
    assert.equal((await call(`${gw.url}/h`, { headers: { 'x-probe': `${'a'.repeat(40)}!` } })).status, 404);
    assert.equal((await call(`${gw.url}/h`, { headers: { 'x-probe': 'aaa' } })).status, 200);
  });
});
