// Headless Chromium for the dashboard e2e tests: Debian's chromium driven by
// playwright-core (no browser download possible here), with the flags this
// machine needs. Playwright gives every launch a fresh temporary profile.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { chromium } from 'playwright-core';
import { ROOT } from '../../integration/harness.mjs';

export const WWW_DIST = process.env.PERFLOAD_WWW_DIST || path.join(ROOT, 'www', 'dist');
const CHROMIUM = process.env.PERFLOAD_CHROMIUM || '/usr/bin/chromium';

const browsers = new Set();

export async function launchBrowser() {
  const b = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
  browsers.add(b);
  return b;
}

export async function closeBrowsers() {
  for (const b of browsers) { try { await b.close(); } catch {} }
  browsers.clear();
}

/** A directory for this run's screenshots (kept after the run: the path is printed). */
export function shotDir() {
  const d = process.env.PERFLOAD_SHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'perfload-shots-'));
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** Reads the dashboard's cards into plain objects keyed by mac. */
export async function readCards(page) {
  return page.$$eval('[data-testid="machine-card"]', (els) => Object.fromEntries(els.map((el) => {
    const t = (id) => el.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
    return [el.dataset.mac, {
      status: el.dataset.status, badge: t('status-badge'), cpu: t('cpu-gauge-value'), mem: t('mem-gauge-value'),
      os: t('os'), uptime: t('uptime'), clock: t('clock'), cores: t('cores'), lastSeen: t('last-seen'),
    }];
  })));
}

/**
 * The dev mock of the appliance's HTTP side, for running the UI against a
 * socket server that has no :8001 (the Node reference): serves www/dist and a
 * /api/config naming the socket port. Not used by the final tests.
 */
export function staticServer(dir, config) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
  const srv = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/api/config') {
      if (!config) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(config));
      return;
    }
    let p = path.join(dir, path.normalize(url.pathname));
    if (!p.startsWith(dir) || !fs.existsSync(p) || fs.statSync(p).isDirectory()) p = path.join(dir, 'index.html');
    res.writeHead(200, { 'content-type': types[path.extname(p)] || 'application/octet-stream' });
    fs.createReadStream(p).pipe(res);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => srv.close(r)),
  })));
}
