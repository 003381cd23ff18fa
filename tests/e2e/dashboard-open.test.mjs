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

test('theme follows prefers-color-scheme, and the toggle overrides it and is remembered', { timeout: 30000 }, async (t) => {
  if (server.peer) { t.skip('development peer mode has no --open-dashboard'); return; }
  const ctx = await browser.newContext({ colorScheme: 'dark' });
  const page = await ctx.newPage();
  await page.goto(server.httpUrl);
  await page.waitForSelector('[data-testid="theme-toggle"]');
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const dark = await bg();
  assert.equal(dark, 'rgb(14, 17, 22)', 'dark from the system preference');
  await page.click('[data-testid="theme-toggle"]');            // auto → light
  assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
  assert.equal(await bg(), 'rgb(244, 246, 249)');
  await page.reload();
  await page.waitForSelector('[data-testid="theme-toggle"]');
  assert.equal(await bg(), 'rgb(244, 246, 249)', 'the choice survives a reload');
  await page.click('[data-testid="theme-toggle"]');            // light → dark
  await page.click('[data-testid="theme-toggle"]');            // dark → auto
  assert.equal(await page.getAttribute('html', 'data-theme'), null);
  assert.equal(await bg(), dark);
  await ctx.close();
});
