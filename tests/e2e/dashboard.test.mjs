// The dashboard end to end: Redis, the appliance serving www/dist, three real
// agents, headless Chromium. What a person at the wall sees: three live cards,
// an agent stopped → Offline within 5 s, restarted → live again without a
// reload, a wrong UI key → a visible refusal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startRedis, cleanup, waitFor, sleep, ROOT } from '../integration/harness.mjs';
import { launchBrowser, closeBrowsers, shotDir, readCards } from './lib/browser.mjs';
import { startUiServer, machine } from './lib/fleet.mjs';

const IDS = ['e2e-alpha', 'e2e-bravo', 'e2e-charlie'];
let server; let browser; let shots; let page;
const machines = [];
const pageErrors = [];

before(async () => {
  const redis = await startRedis();
  server = await startUiServer(redis);
  for (const id of IDS) { const m = machine(server, id); machines.push(m); await m.start(); }
  browser = await launchBrowser();
  shots = shotDir();
  console.log(`# screenshots in ${shots}`);
});

after(async () => {
  for (const m of machines) await m.stop();
  await closeBrowsers();
  if (server && server.peer) await server.stop();
  await cleanup();
});

const statusOf = async (id) => page.getAttribute(`[data-testid="machine-card"][data-mac="${id}"]`, 'data-status').catch(() => null);

test('asks for the UI key, then shows three live cards with sane values', { timeout: 60000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.httpUrl);
  await page.waitForSelector('[data-testid="key-form"]', { timeout: 10000 });
  await page.screenshot({ path: path.join(shots, 'key-form.png') });
  // The key is never part of the page's code.
  const js = await page.evaluate(() => Promise.all([...document.scripts].filter((s) => s.src)
    .map((s) => fetch(s.src).then((r) => r.text()))));
  assert.ok(js.length > 0 && js.every((t) => !t.includes(server.uiKey)), 'UI key not in the served JS');

  await page.fill('[data-testid="key-input"]', server.uiKey);
  await page.press('[data-testid="key-input"]', 'Enter');
  await waitFor(async () => (await page.locator('[data-testid="machine-card"]').count()) === 3, 15000, '3 cards');
  await waitFor(async () => (await page.getAttribute('[data-testid="conn-status"]', 'data-status')) === 'connected',
    5000, 'connected');
  await waitFor(async () => Object.values(await readCards(page)).every((c) => c.status === 'online'), 5000, 'all online');
  const first = await readCards(page);
  assert.deepEqual(Object.keys(first).sort(), IDS);
  for (const id of IDS) {
    const c = first[id];
    assert.equal(c.status, 'online');
    assert.equal(c.badge, 'Online');
    assert.match(c.cpu, /^\d{1,3}%$/);
    assert.match(c.mem, /^\d{1,3}%$/);
    assert.match(c.uptime, /^\d+[dhms]( \d+[hms])?$/, 'uptime humanised from seconds');
    assert.match(c.clock, /^(\d+ MHz|\d+\.\d\d GHz|\u2014)$/);
    assert.match(c.cores, /^\d+$/);
    assert.ok(c.os && c.os !== '\u2014', 'OS shown');
    assert.equal(await page.textContent('[data-testid="count-online"]'), '3');
  }

  // Values change: every card's sparkline grows with new samples, and the
  // numbers on the cards move within a few seconds.
  const sparks = async () => page.$$eval('[data-testid="machine-card"]', (els) => Object.fromEntries(
    els.map((el) => [el.dataset.mac, [...el.querySelectorAll('.sparkline path')].map((p) => p.getAttribute('d')).join('|')])));
  const s0 = await sparks();
  await waitFor(async () => {
    const s1 = await sparks();
    return IDS.every((id) => s1[id] !== s0[id]);
  }, 10000, 'sparklines of all three cards to advance');
  await waitFor(async () => {
    const now = await readCards(page);
    return IDS.some((id) => now[id].cpu !== first[id].cpu || now[id].mem !== first[id].mem || now[id].uptime !== first[id].uptime);
  }, 20000, 'a gauge or uptime value to change');
  await page.screenshot({ path: path.join(shots, 'dashboard-live.png') });
});

test('a stopped agent turns Offline within 5 s and comes back without a reload', { timeout: 60000 }, async () => {
  const victim = machines[1];
  const t0 = Date.now();
  await victim.stop();
  await waitFor(async () => (await statusOf(victim.id)) === 'offline', 5000, `${victim.id} offline`);
  const took = Date.now() - t0;
  console.log(`# offline shown after ${took} ms`);
  const cards = await readCards(page);
  assert.equal(cards[victim.id].badge, 'Offline');
  assert.match(cards[victim.id].lastSeen, /^(just now|\d+ s ago)$/);
  assert.equal(cards[machines[0].id].status, 'online', 'the others stay online');
  assert.equal(await page.textContent('[data-testid="count-offline"]'), '1');
  assert.equal(await page.textContent('[data-testid="count-online"]'), '2');
  await page.screenshot({ path: path.join(shots, 'dashboard-offline.png') });
  if (process.env.PERFLOAD_UPDATE_SCREENSHOT) {
    await page.screenshot({ path: path.join(ROOT, 'docs', 'dashboard.png') });
  }

  // Filter by status: only the offline one.
  await page.selectOption('[data-testid="show"]', 'offline');
  await waitFor(async () => (await page.locator('[data-testid="machine-card"]').count()) === 1, 3000, 'status filter');
  await page.selectOption('[data-testid="show"]', 'all');

  await victim.start();
  await waitFor(async () => (await statusOf(victim.id)) === 'online', 10000, `${victim.id} back online`);
  assert.equal(await page.textContent('[data-testid="count-online"]'), '3');
});

test('detail view: history chart, keyboard open and Escape to close', { timeout: 30000 }, async () => {
  const id = machines[0].id;
  await page.focus(`[data-mac="${id}"] [data-testid="card-open"]`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid="detail-view"]', { timeout: 5000 });
  assert.ok(page.url().includes(`#/machine/${encodeURIComponent(id)}`), 'deep link in the URL');
  await page.waitForSelector('[data-testid="history-cpu"] path.chart-line', { state: 'attached', timeout: 5000 });
  await waitFor(async () => {
    const d = await page.getAttribute('[data-testid="history-cpu"] path.chart-line', 'd');
    return d && d.includes('L');
  }, 10000, 'a history line with at least two points');
  await page.click('[data-testid="range-1h"]');
  assert.equal(await page.getAttribute('[data-testid="range-1h"]', 'aria-pressed'), 'true');
  await page.screenshot({ path: path.join(shots, 'detail.png') });
  for (let i = 0; i < 8; i++) await page.keyboard.press('Tab');
  assert.ok(await page.evaluate(() => document.querySelector('[data-testid="detail-view"]').contains(document.activeElement)),
    'Tab stays inside the dialog');
  await page.keyboard.press('Escape');
  await page.waitForSelector('[data-testid="detail-view"]', { state: 'detached', timeout: 3000 });
  assert.equal(await page.evaluate(() => document.activeElement?.closest('[data-testid="machine-card"]')?.dataset.mac), id,
    'focus returns to the card that opened the dialog');
});

test('the key is remembered across a reload', { timeout: 30000 }, async () => {
  await page.reload();
  await waitFor(async () => (await page.locator('[data-testid="machine-card"]').count()) === 3, 10000, 'cards after reload');
  assert.equal(await page.locator('[data-testid="key-form"]').count(), 0);
  // Sparklines are seeded from the history API: well over the 1-2 live points
  // a page can have received in its first seconds.
  const id = machines[0].id;
  await waitFor(async () => {
    const d = await page.getAttribute(`[data-mac="${id}"] .sparkline path.s-cpu`, 'd').catch(() => '');
    return (d || '').split('L').length > 8;
  }, 4000, 'a sparkline seeded with recent history');
});

test('an appliance restart shows Reconnecting, then the fleet again', { timeout: 60000 }, async (t) => {
  if (!server.restart) { t.skip('development peer mode: no restart'); return; }
  await server.stop();
  await waitFor(async () => (await page.getAttribute('[data-testid="conn-status"]', 'data-status')) === 'reconnecting',
    8000, 'reconnecting shown');
  assert.equal(await page.locator('[data-testid="machine-card"]').count(), 3, 'cards stay while reconnecting');
  await page.screenshot({ path: path.join(shots, 'reconnecting.png') });
  await server.restart();
  await waitFor(async () => (await page.getAttribute('[data-testid="conn-status"]', 'data-status')) === 'connected',
    15000, 'connected again');
  await waitFor(async () => Object.values(await readCards(page)).filter((c) => c.status === 'online').length === 3,
    20000, 'agents back online after the restart');
});

test('a wrong UI key is refused visibly, and the right one then works', { timeout: 30000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } }); // phone width
  const p = await ctx.newPage();
  p.on('pageerror', (e) => pageErrors.push(e.message));
  await p.goto(server.httpUrl);
  await p.fill('[data-testid="key-input"]', 'definitely-not-the-key');
  await p.click('[data-testid="key-submit"]');
  await p.waitForSelector('[data-testid="key-refused"]', { timeout: 8000 });
  assert.equal(await p.getAttribute('[data-testid="conn-status"]', 'data-status'), 'refused');
  assert.equal(await p.evaluate(() => localStorage.getItem('perfload.uiKey')), null, 'a refused key is not kept');
  await p.screenshot({ path: path.join(shots, 'key-refused-phone.png') });
  await p.fill('[data-testid="key-input"]', server.uiKey);
  await p.click('[data-testid="key-submit"]');
  await waitFor(async () => (await p.locator('[data-testid="machine-card"]').count()) >= 1, 10000, 'cards after the right key');
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling at phone width (overflow ${overflow}px)`);
  await p.screenshot({ path: path.join(shots, 'dashboard-phone.png') });
  await ctx.close();
  assert.deepEqual(pageErrors, []);
});
