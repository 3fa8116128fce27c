/**
 * The Grafana dashboard and the Prometheus alert rules in deploy/observability ask only for what the gateway exports:
 * every query is parsed with the PromQL grammar of Prometheus' own UI (@prometheus-io/lezer-promql; a syntax error
 * fails), and every metric and label it names is checked against /metrics of a running gateway that served some
 * traffic (answers, a 401, a refused connection retried, an unhealthy endpoint, a rejected reload).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { chatHandler } from '../../examples/servers/chat-openai-server.ts';
import { startServer } from '../../examples/servers/http-util.ts';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream, unusedPort } from '../helpers/upstream.ts';

const root = new URL('../../', import.meta.url);

/** The queries, each with where it comes from. */
function queries(): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const dashboard = JSON.parse(readFileSync(new URL('deploy/observability/grafana-dashboard.json', root), 'utf8'));
  for (const panel of dashboard.panels)
    for (const target of panel.targets) out.push({ where: `dashboard: ${panel.title}`, expr: target.expr });
  const rules = parseYaml(readFileSync(new URL('deploy/observability/alerts.yaml', root), 'utf8'));
  for (const group of rules.groups)
    for (const rule of group.rules) out.push({ where: `alert ${rule.alert}`, expr: rule.expr });
  return out;
}

/** Metric names and, per metric, the label names a query uses; syntax errors. */
function selectors(expr: string): { errors: string[]; metrics: Map<string, Set<string>>; grouping: Set<string> } {
  // Grafana's interval variable is not PromQL: a duration stands in for it.
  const text = expr.replaceAll('$__rate_interval', '5m');
  const tree = parser.parse(text);
  const errors: string[] = [];
  const metrics = new Map<string, Set<string>>();
  const grouping = new Set<string>();
  const cursor = tree.cursor();
  do {
    const node = cursor.node;
    if (node.type.isError) errors.push(`syntax error at ${node.from}: ${text.slice(node.from, node.from + 20)}`);
    if (node.name === 'VectorSelector') {
      const identifier = node.getChild('Identifier');
      const name = identifier ? text.slice(identifier.from, identifier.to) : '';
      const labels = metrics.get(name) ?? new Set<string>();
      for (const label of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
        const labelName = label.getChild('LabelName');
        if (labelName) labels.add(text.slice(labelName.from, labelName.to));
      }
      metrics.set(name, labels);
    }
    if (node.name === 'GroupingLabels')
      for (const label of node.getChildren('LabelName')) grouping.add(text.slice(label.from, label.to));
  } while (cursor.next());
  return { errors, metrics, grouping };
}

/** Label names per sample name in a Prometheus text exposition. */
function exported(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const name = line.split(' ')[2]!;
      out.set(name, out.get(name) ?? new Set());
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s/.exec(line);
    if (!m) continue;
    const labels = out.get(m[1]!) ?? new Set<string>();
    for (const pair of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(pair[1]!);
    out.set(m[1]!, labels);
  }
  return out;
}

describe('dashboard and alert queries', () => {
  let upstream: TestUpstream;
  let chat: { server: import('node:http').Server; port: number };
  let flaky: TestUpstream;
  let gw: TestGateway;
  let metrics: Map<string, Set<string>>;

  before(async () => {
    upstream = await startUpstream('m');
    chat = await startServer(chatHandler('tiny-chat', 1));
    flaky = await startUpstream('flaky', (req, res) => {
      res.writeHead(req.url === '/v1/models' ? 200 : 429, { 'content-type': 'application/json' });
      res.end(req.url === '/v1/models' ? '{"object":"list","data":[{"id":"flaky-model","object":"model"}]}' : '{}');
      return true;
    });
    const closed = await unusedPort();
    gw = await startGateway({
      'gw.yaml': `apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  auth:\n    providers:\n      - name: keys\n        apiKey: {secrets: [{name: keys}]}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: keys}\nstringData: {alice: alice-key-0123456789}\n`,
      'ok.yaml': modelApiYaml(
        'ok',
        'openapi',
        [{ name: 'v1', url: upstream.origin }],
        '  healthCheck: {active: {path: /status/200, interval: 30ms}}\n',
      ),
      'keyed.yaml': modelApiYaml(
        'keyed',
        'openapi',
        [{ name: 'v1', url: upstream.origin }],
        '  auth: {providers: [keys]}\n',
      ),
      // An OpenAI-compatible API: the GenAI families (tokens by model, consumer and type; time to first token).
      'chat.yaml': modelApiYaml('chat', 'openai', [{ name: 'v1', url: `http://127.0.0.1:${chat.port}` }]),
      'flaky.yaml': modelApiYaml(
        'flaky',
        'openai',
        [{ name: 'v1', url: flaky.origin }],
        '  modelFallbacks: [{model: flaky-model, fallbacks: [tiny-chat]}]\n',
      ),
      // No health check: a request is tried (connect failure, retried) — upstream errors and retries.
      'refused.yaml': modelApiYaml('refused', 'openapi', [{ name: 'v1', url: `http://127.0.0.1:${closed}` }]),
      'down.yaml': modelApiYaml(
        'down',
        'openapi',
        [{ name: 'v1', url: `http://127.0.0.1:${closed}` }],
        '  healthCheck: {active: {path: /ready, interval: 30ms, unhealthyThreshold: 1}}\n',
      ),
    });
    await call(`${gw.url}/models/ok/x`);
    await call(`${gw.url}/models/keyed/x`);
    await call(`${gw.url}/models/down/x`);
    await call(`${gw.url}/models/refused/x`);
    const completion = await call(`${gw.url}/models/chat/v1/chat/completions`, {
      body: JSON.stringify({ model: 'tiny-chat', messages: [{ role: 'user', content: 'hello there' }] }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(completion.status, 200);
    // A saturated model (429) whose requests through /v1 fall back to the chat model: the fallback family.
    await eventually(async () => (await call(`${gw.url}/v1/models`)).text.includes('"flaky-model"'), 5000);
    const fellBack = await call(`${gw.url}/v1/chat/completions`, {
      body: JSON.stringify({ model: 'flaky-model', messages: [{ role: 'user', content: 'hello there' }] }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(fellBack.headers['x-modelgate-model'], 'tiny-chat');
    await gw.write(
      'broken.yaml',
      'apiVersion: modelgate.dev/v1alpha1\nkind: ModelAPI\nmetadata: {name: broken}\nspec: {protocol: telnet}\n',
    );
    await eventually(async () =>
      (await (await fetch(`${gw.adminUrl}/metrics`)).text()).includes('modelgate_endpoint_healthy{'),
    );
    metrics = exported(await (await fetch(`${gw.adminUrl}/metrics`)).text());
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    chat.server.close();
    await flaky.close();
  });

  it('has queries to check', () => {
    assert.ok(queries().length >= 15);
  });

  for (const { where, expr } of queries()) {
    it(`${where}: parses, and names exported metrics and labels`, () => {
      const { errors, metrics: used, grouping } = selectors(expr);
      assert.deepEqual(errors, [], expr);
      assert.ok(used.size > 0, `no metric in ${expr}`);
      const allLabels = new Set<string>();
      for (const [name, labels] of used) {
        const have = metrics.get(name);
        assert.ok(have, `${name} is not exported (${where})`);
        for (const label of labels) assert.ok(have.has(label), `${name} has no label ${label} (${where})`);
        for (const label of have) allLabels.add(label);
      }
      for (const label of grouping) assert.ok(allLabels.has(label), `no metric of ${expr} has the label ${label}`);
    });
  }

  it('the checker is not blind: an unknown metric, label or a syntax error fails', () => {
    const unknown = selectors('rate(modelgate_requets_total[5m])');
    assert.equal(metrics.has([...unknown.metrics.keys()][0]!), false);
    const badLabel = selectors('modelgate_requests_total{route="x"}');
    assert.equal(
      metrics.get('modelgate_requests_total')?.has([...badLabel.metrics.get('modelgate_requests_total')!][0]!),
      false,
    );
    assert.ok(selectors('sum(rate(modelgate_requests_total[5m])').errors.length > 0);
  });
});
