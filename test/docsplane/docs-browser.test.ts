/**
 * The docs portal in real Chromium (Debian `chromium`, driven by playwright-core): Swagger UI lists the operations of
 * all three example model servers, its selector offers each model, "Try it out" of a V2 prediction goes through the
 * gateway and shows the model's answer, ReDoc renders, and the landing page links both — all under a path prefix, with
 * every request the browser makes staying on loopback (no CDN). Writes the README screenshot when
 * UPDATE_SCREENSHOT=1.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { chatHandler } from '../../examples/servers/chat-openai-server.ts';
import { startServer } from '../../examples/servers/http-util.ts';
import { irisHandler } from '../../examples/servers/iris-v2-server.ts';
import { sentimentHandler } from '../../examples/servers/sentiment-rest-server.ts';
import { call, eventually, modelApiYaml, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { requireSystemPackages } from '../helpers/system-packages.ts';
import { unusedPort } from '../helpers/upstream.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// CHROMIUM_PATH names another browser binary; otherwise Debian's chromium package is required.
if (!process.env.CHROMIUM_PATH) requireSystemPackages('chromium', 'fonts-liberation');

describe('docs portal in Chromium', () => {
  let gw: TestGateway;
  let browser: Browser;
  const servers: { server: import('node:http').Server; port: number }[] = [];
  const offLoopback: string[] = [];

  before(async () => {
    servers.push(
      await startServer(irisHandler('iris')),
      await startServer(chatHandler('tiny-chat', 1)),
      await startServer(sentimentHandler()),
    );
    const [iris, chat, sentiment] = servers.map((s) => `http://127.0.0.1:${s.port}`);
    const port = await unusedPort();
    gw = await startGateway(
      {
        'gateway.yaml':
          'apiVersion: modelgate.dev/v1alpha1\nkind: ModelGateway\nmetadata: {name: gw}\nspec:\n  docs: {title: Example models, pathPrefix: /portal}\n',
        'iris.yaml': modelApiYaml(
          'iris',
          'open-inference-v2',
          [{ name: 'v1', url: iris! }],
          '  docs: {discover: true, description: Iris species from four measurements.}\n',
        ),
        'chat.yaml': modelApiYaml('chat', 'openai', [{ name: 'v1', url: chat! }], '  docs: {discover: true}\n'),
        'sentiment.yaml': modelApiYaml(
          'sentiment',
          'openapi',
          [{ name: 'v1', url: sentiment! }],
          '  docs: {openAPI: {path: /openapi.json}}\n',
        ),
      },
      { port, publicURL: `http://127.0.0.1:${port}` },
    );
    await eventually(async () => {
      const status = await call(`${gw.url}/portal/openapi.json`);
      const paths = (status.json() as { paths: Record<string, unknown> }).paths;
      return (
        paths['/models/sentiment/predict'] !== undefined && paths['/models/chat/v1/chat/completions'] !== undefined
      );
    }, 5000);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--no-first-run',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    for (const s of servers) s.server.close();
  });

  async function open(path: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
      offLoopback.push(url.href);
      return route.abort();
    });
    await page.goto(gw.url + path);
    return page;
  }

  it('Swagger UI shows the operations of all three model servers, with a selector per model', async () => {
    const page = await open('/portal/docs');
    await page.waitForSelector('.opblock-summary-path[data-path="/models/iris/infer"]', { timeout: 30_000 });
    const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path')));
    for (const p of ['/models/iris/infer', '/models/chat/v1/chat/completions', '/models/sentiment/predict'])
      assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
    const options = await page.$$eval('.topbar select option', (els) => els.map((e) => e.textContent));
    assert.deepEqual(options, ['Example models', 'chat', 'iris', 'sentiment']);
    if (process.env.UPDATE_SCREENSHOT === '1') {
      mkdirSync(new URL('../../docs/images/', import.meta.url), { recursive: true });
      await page.screenshot({ path: new URL('../../docs/images/swagger-ui.png', import.meta.url).pathname });
    }
    await page.close();
  });

  it('"Try it out" of a V2 prediction goes through the gateway and shows the model\'s answer', async () => {
    const page = await open('/portal/docs?urls.primaryName=iris');
    const op = page.locator('.opblock-post', { has: page.locator('[data-path="/models/iris/infer"]') });
    await op.locator('.opblock-summary').click();
    await op.locator('button.try-out__btn').click();
    const body = {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [6.7, 3.0, 5.2, 2.3] }],
    };
    await op.locator('textarea.body-param__text').fill(JSON.stringify(body));
    await op.locator('button.execute').click();
    const status = op.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 15_000 });
    assert.equal((await status.textContent())?.trim(), '200');
    const answer = await op.locator('.live-responses-table .response-col_description pre').first().textContent();
    const parsed = JSON.parse(answer ?? '{}') as {
      model_name: string;
      outputs: { name: string; data: number[] }[];
      parameters: { class_names: string[] };
    };
    assert.equal(parsed.model_name, 'iris');
    const predicted = parsed.outputs.find((o) => o.name === 'class')!.data[0]!;
    assert.equal(parsed.parameters.class_names[predicted], 'virginica');
    await page.close();
  });

  it('ReDoc renders the merged document, and the landing page links both', async () => {
    const page = await open('/portal/redoc');
    await page.locator('h2', { hasText: 'Run inference' }).first().waitFor({ timeout: 30_000 });
    await page.close();
    const landing = await open('/portal/');
    const rows = await landing.$$eval('tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    assert.equal(rows.length, 3);
    assert.match(rows.find((r) => r.includes('iris')) ?? '', /ready 1\/1/);
    await landing.click('nav a[href="docs"]');
    await landing.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
    assert.equal(new URL(landing.url()).pathname, '/portal/docs');
    await landing.close();
  });

  it('never left loopback', () => {
    assert.deepEqual(offLoopback, []);
  });
});
