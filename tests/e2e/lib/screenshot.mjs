// Refreshes docs/dashboard.png (and docs/dashboard-detail.png): the real
// appliance, nine simulated machines with varied load for a minute, one of
// them stopped. Run by hand after UI changes:  node tests/e2e/lib/screenshot.mjs
// (not a test: it asserts nothing and takes ~80 s).
import path from 'node:path';
import { startRedis, cleanup, sleep, client, onceEvent, makeSample, ROOT } from '../../integration/harness.mjs';
import { launchBrowser, closeBrowsers } from './browser.mjs';
import { startUiServer } from './fleet.mjs';

const HOSTS = [
  ['web-1', 'Linux', 'AMD EPYC 7B13', 8, 2450, 35, 0.42], ['web-2', 'Linux', 'AMD EPYC 7B13', 8, 2450, 41, 0.47],
  ['db-primary', 'Linux', 'Intel(R) Xeon(R) Gold 6338', 32, 2000, 78, 0.81],
  ['db-replica', 'Linux', 'Intel(R) Xeon(R) Gold 6338', 32, 2000, 22, 0.64],
  ['build-agent', 'Linux', 'AMD Ryzen 9 7950X', 16, 4500, 92, 0.58], ['cache-1', 'Linux', 'Intel(R) Xeon(R) E-2288G', 8, 3700, 12, 0.93],
  ['edge-pi', 'Linux', 'Cortex-A72', 4, 1500, 18, 0.31], ['mail', 'Linux', 'Intel(R) Core(TM) i5-8500T', 6, 2100, 7, 0.27],
  ['backup', 'Linux', 'Intel(R) Atom(TM) C3558', 4, 2200, 55, 0.38],
];

const redis = await startRedis();
const server = await startUiServer(redis);
const socks = [];
for (const [i, [host, os, cpu, cores, mhz, load, mem]] of HOSTS.entries()) {
  const s = client(server.url, { transports: ['websocket'] });
  await onceEvent(s, 'connect');
  s.emit('clientAuth', server.agentKey);
  let n = 0;
  const mac = `52:54:00:12:34:${(0x50 + i).toString(16)}`;
  const send = (ev) => {
    n++;
    const wave = Math.sin(n / 9 + i) * 12 + (Math.random() - 0.5) * 8;
    const cpuLoad = Math.max(1, Math.min(100, load + wave));
    const per = Array.from({ length: Math.min(cores, 16) }, () => Math.max(0, Math.min(100, cpuLoad + (Math.random() - 0.5) * 40)));
    const total = 2 ** Math.round(Math.log2(cores * 4)) * 1024 ** 3;
    const memUsage = Math.round(Math.max(0.05, Math.min(0.99, mem + Math.sin(n / 20) * 0.03)) * 100) / 100;
    s.emit(ev, makeSample(mac, { hostname: host, osType: os, cpuModel: cpu, numCores: cores, cpuSpeed: mhz,
      cpuLoad: Math.round(cpuLoad * 100) / 100, cpuLoadPerCore: per.map((v) => Math.round(v * 10) / 10),
      totalMem: total, usedMem: Math.round(total * memUsage), freeMem: Math.round(total * (1 - memUsage)), memUsage,
      upTime: 86400 * (i * 3 + 1) + 3600 * i + n, loadAvg: [cpuLoad / 25, cpuLoad / 27, cpuLoad / 30],
      kernel: '6.1.0-13-amd64' }));
  };
  send('initPerfData');
  s.timer = setInterval(() => send('perfData'), 1000);
  socks.push(s);
}
await sleep(65000);
clearInterval(socks[7].timer);
socks[7].close();                                   // 'mail' goes offline
await sleep(4000);
const browser = await launchBrowser();
const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
await page.addInitScript((k) => localStorage.setItem('perfload.uiKey', k), server.uiKey);
await page.goto(server.httpUrl);
await sleep(3000);
await page.screenshot({ path: path.join(ROOT, 'docs', 'dashboard.png') });
await page.setViewportSize({ width: 1000, height: 1300 });
await page.click('[data-mac="52:54:00:12:34:52"] [data-testid="card-open"]');
await sleep(2500);
await page.screenshot({ path: path.join(ROOT, 'docs', 'dashboard-detail.png') });
for (const s of socks) { clearInterval(s.timer); s.close(); }
await closeBrowsers();
await cleanup();
console.log('wrote docs/dashboard.png and docs/dashboard-detail.png');
