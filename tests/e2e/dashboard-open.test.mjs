// --open-dashboard: /api/config says no key is needed, so the dashboard shows
// no key form, authenticates with an empty key and shows the fleet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, cleanup, waitFor, connectFakeAgent, makeSample } from '../integration/harness.mjs';
import { launchBrowser, closeBrowsers, readCards } from './lib/browser.mjs';
import { startUiServer } from './lib/fleet.mjs';

let server; let browser;

before(async () => {
  const redis = await startRedis();
  server = await startUiServer(redis, { args: ['--open-dashboard'] });
  browser = await launchBrowser();
});

after(async () => {
  await closeBrowsers();
  if (server && server.peer) await server.stop();
  await cleanup();
});

test('an open dashboard needs no key', { timeout: 30000 }, async (t) => {
  if (server.peer) { t.skip('development peer mode has no --open-dashboard'); return; }
  const cfg = await (await fetch(`${server.httpUrl}/api/config`)).json();
  assert.equal(cfg.uiKeyRequired, false);
  const agent = await connectFakeAgent(server);
  agent.emit('initPerfData', makeSample('open-1', { cpuLoad: 42, memUsage: 0.25, upTime: 90061 }));
  const page = await browser.newPage();
  await page.goto(server.httpUrl);
  await waitFor(async () => (await page.locator('[data-testid="machine-card"]').count()) === 1, 10000, 'the card');
  assert.equal(await page.locator('[data-testid="key-form"]').count(), 0);
  assert.equal(await page.locator('[data-testid="forget-key"]').count(), 0, 'no key to change');
  await waitFor(async () => (await page.getAttribute('[data-testid="conn-status"]', 'data-status')) === 'connected', 5000, 'connected');
  const c = (await readCards(page))['open-1'];
  assert.deepEqual([c.cpu, c.mem, c.uptime, c.clock, c.cores], ['42%', '25%', '1d 1h', '2.40 GHz', '4']);
});
