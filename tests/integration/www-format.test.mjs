// Unit tests of the dashboard's formatting helpers (www/src/format.js) and its
// per-frame sample batching (www/src/store.js): the numbers and units a user
// reads on every card. Pure modules, so plain node --test runs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatUptime, formatBytes, formatRate, formatMHz, formatPercent, formatFraction, fractionToPercent,
  level, formatRelative, formatLoadAvg, machineName,
} from '../../www/src/format.js';
import { createStore, summarize } from '../../www/src/store.js';
import { toMs } from '../../www/src/api.js';

const DASH = '\u2014';

test('uptime is seconds, humanised to the two largest units', () => {
  assert.equal(formatUptime(0), '0s');
  assert.equal(formatUptime(42.9), '42s');
  assert.equal(formatUptime(59), '59s');
  assert.equal(formatUptime(60), '1m 0s');
  assert.equal(formatUptime(7 * 60 + 3), '7m 3s');
  assert.equal(formatUptime(3600), '1h 0m');
  assert.equal(formatUptime(5 * 3600 + 12 * 60 + 59), '5h 12m');
  assert.equal(formatUptime(86399), '23h 59m');
  assert.equal(formatUptime(86400), '1d 0h');
  assert.equal(formatUptime(3 * 86400 + 4 * 3600 + 5 * 60), '3d 4h');
  assert.equal(formatUptime(400 * 86400), '400d 0h');
  // milliseconds would be a bug upstream, not something to guess at: 1234 s stays 20m 34s
  assert.equal(formatUptime(1234), '20m 34s');
  for (const bad of [-1, NaN, Infinity, null, undefined, '3600']) assert.equal(formatUptime(bad), DASH);
});

test('bytes use binary units with three significant digits', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.00 KiB');
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.equal(formatBytes(10 * 1024), '10.0 KiB');
  assert.equal(formatBytes(500 * 1024 * 1024), '500 MiB');
  assert.equal(formatBytes(8e9), '7.45 GiB');
  assert.equal(formatBytes(16 * 1024 ** 3), '16.0 GiB');
  assert.equal(formatBytes(2 * 1024 ** 4), '2.00 TiB');
  // rounding up to 1024 moves to the next unit instead of printing "1024 KiB"
  assert.equal(formatBytes(1024 * 1024 - 1), '1.00 MiB');
  assert.equal(formatBytes(-5), DASH);
  assert.equal(formatBytes(undefined), DASH);
  assert.equal(formatRate(2048), '2.00 KiB/s');
  assert.equal(formatRate(null), DASH);
});

test('clock speed is MHz in, MHz or GHz out', () => {
  assert.equal(formatMHz(800), '800 MHz');
  assert.equal(formatMHz(999.6), '1000 MHz');
  assert.equal(formatMHz(1000), '1.00 GHz');
  assert.equal(formatMHz(2400), '2.40 GHz');
  assert.equal(formatMHz(3792.5), '3.79 GHz');
  assert.equal(formatMHz(0), DASH);
  assert.equal(formatMHz(undefined), DASH);
});

test('percentages: cpuLoad is 0–100, memUsage is a 0–1 fraction, both clamped', () => {
  assert.equal(formatPercent(42.4), '42%');
  assert.equal(formatPercent(42.5, 1), '42.5%');
  assert.equal(formatPercent(0), '0%');
  assert.equal(formatPercent(130), '100%');
  assert.equal(formatPercent(-3), '0%');
  assert.equal(formatPercent(NaN), DASH);
  assert.equal(formatFraction(0.5), '50%');
  assert.equal(formatFraction(0.07), '7%');
  assert.equal(formatFraction(1.2), '100%');
  assert.equal(formatFraction('0.5'), DASH);
  assert.equal(fractionToPercent(0.25), 25);
  assert.equal(fractionToPercent(null), null);
});

test('colour bands share one set of thresholds', () => {
  assert.equal(level(0), 'ok');
  assert.equal(level(69.9), 'ok');
  assert.equal(level(70), 'warn');
  assert.equal(level(89.9), 'warn');
  assert.equal(level(90), 'crit');
  assert.equal(level(250), 'crit');
  assert.equal(level(null), 'unknown');
});

test('relative time reads like a person says it', () => {
  const now = 1_700_000_000_000;
  assert.equal(formatRelative(now, now), 'just now');
  assert.equal(formatRelative(now - 4_000, now), 'just now');
  assert.equal(formatRelative(now - 12_000, now), '12 s ago');
  assert.equal(formatRelative(now - 3 * 60_000, now), '3 min ago');
  assert.equal(formatRelative(now - 59 * 60_000, now), '59 min ago');
  assert.equal(formatRelative(now - 2 * 3600_000, now), '2 h ago');
  assert.equal(formatRelative(now - 4 * 86400_000, now), '4 d ago');
  assert.equal(formatRelative(now + 10_000, now), 'just now', 'clock skew never says "in the future"');
  assert.equal(formatRelative(null, now), 'never');
});

test('load average and machine name', () => {
  assert.equal(formatLoadAvg([0.5, 0.614, 1]), '0.50 0.61 1.00');
  assert.equal(formatLoadAvg('1 2 3'), DASH);
  assert.equal(machineName({ macA: 'aa:bb', hostname: ' web-1 ' }), 'web-1');
  assert.equal(machineName({ macA: 'aa:bb' }), 'aa:bb');
});

test('history timestamps: epoch ms, epoch s, ISO and Mongo extended JSON', () => {
  assert.equal(toMs(1_700_000_000_000), 1_700_000_000_000);
  assert.equal(toMs(1_700_000_000), 1_700_000_000_000);
  assert.equal(toMs('2023-11-14T22:13:20.000Z'), 1_700_000_000_000);
  assert.equal(toMs({ $date: '2023-11-14T22:13:20.000Z' }), 1_700_000_000_000);
  assert.ok(Number.isNaN(toMs(undefined)));
});

test('store applies samples once per frame and keeps offline machines', () => {
  let frame = null;
  let t = 1000;
  const store = createStore({ raf: (fn) => { frame = fn; }, now: () => t });
  let renders = 0;
  store.subscribe(() => renders++);
  for (let i = 0; i < 500; i++) store.push({ macA: `m${i}`, cpuLoad: i % 100, memUsage: 0.5, isActive: true });
  store.push({ macA: '' }); store.push(null); store.push({ cpuLoad: 3 });
  assert.equal(renders, 0, 'nothing rendered before the frame');
  t += 16; frame();
  assert.equal(renders, 1, '500 samples → one render');
  const snap = store.getSnapshot();
  assert.equal(snap.list.length, 500);
  assert.equal(store.stats.maxLagMs, 16);
  const sum = summarize(snap.list);
  assert.equal(sum.online, 500);
  assert.equal(sum.avgMem, 50);
  assert.equal(Math.round(sum.avgCpu * 100) / 100, 49.5);

  const before = store.get('m7');
  store.push({ macA: 'm1', cpuLoad: 5, memUsage: 0.1, isActive: true });
  t += 1000; frame();
  assert.equal(store.get('m7'), before, 'untouched machines keep their object (memoised cards skip them)');
  assert.equal(store.get('m1').spark.cpu.length, 2);

  store.push({ macA: 'm1', cpuLoad: 5, memUsage: 0.1, isActive: false });
  t += 60_000; frame();
  const off = store.get('m1');
  assert.equal(off.active, false);
  assert.equal(off.lastSeen, 1016, 'lastSeen stays at the last live sample');
  assert.equal(off.spark.cpu.length, 2, 'the offline notice adds no sparkline point');
  assert.deepEqual(summarize(store.getSnapshot().list).offline, 1);
  store.annotate('m1', { lastSeen: 1500 });
  assert.equal(store.get('m1').lastSeen, 1500);
});

test('store seeds a sparkline with older history, once, without duplicating live points', () => {
  let frame = null;
  let t = 10 * 60_000;
  const store = createStore({ raf: (fn) => { frame = fn; }, now: () => t });
  store.push({ macA: 'x', cpuLoad: 50, memUsage: 0.5, isActive: true });
  frame();
  const hist = [
    { ts: t - 6 * 60_000, cpuLoad: 1, memUsage: 0.1 },   // older than the 5-min window: dropped
    { ts: t - 2000, cpuLoad: 10, memUsage: 0.2 },
    { ts: t - 1000, cpuLoad: 20, memUsage: 0.3 },
    { ts: t, cpuLoad: 50, memUsage: 0.5 },                // the live point itself: not repeated
  ];
  store.seed('x', hist);
  const m = store.get('x');
  assert.deepEqual(m.spark.t, [t - 2000, t - 1000, t]);
  assert.deepEqual(m.spark.cpu, [10, 20, 50]);
  assert.deepEqual(m.spark.mem, [20, 30, 50]);
  assert.equal(m.seeded, true);
  store.seed('x', hist);
  assert.equal(store.get('x').spark.t.length, 3, 'seeding happens once');
  store.push({ macA: 'x', cpuLoad: 60, memUsage: 0.5, isActive: true });
  t += 1000; frame();
  assert.equal(store.get('x').seeded, true, 'a new sample keeps the seeded mark');
  assert.equal(store.get('x').spark.t.length, 4);
});
