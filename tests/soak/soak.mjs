// Soak: many simulated agents against a real appliance for a long time, a
// worker killed (SIGKILL) every so often, two dashboards counting every
// sample by its per-agent sequence number, RSS sampled throughout.
//
//   node tests/soak/soak.mjs [--agents 1000] [--duration 600] [--kill-every 60 (0 = never)]
//                            [--workers 2] [--json FILE]
//
// (make soak runs the long version; tests/soak/soak.test.mjs a short one.)
//
// What counts as lost: a sample an agent emitted while connected that a
// dashboard which was connected throughout never received -- except inside
// the agent's own reconnect window (from 1 s before its disconnect until it
// is connected again: a sample can be in flight inside the worker that
// died) and the dashboard's own (same rule). socket.io-client would buffer
// emits while disconnected; the agents here only emit while connected, so
// nothing is delivered late from a buffer either.
import { pathToFileURL } from 'node:url';
import fs from 'node:fs';
import { io } from 'socket.io-client';
import { startRedis, startAppliance, cleanup, makeSample, sleep, waitFor } from '../integration/harness.mjs';
import { metric, workerPids, rssKb } from '../integration/lib/faults.mjs';

const IN_FLIGHT_MS = 1000;   // a sample emitted this long before a disconnect may be lost with the worker
const SETTLE_MS = 2000;      // a dashboard must stay connected this long after a sample to be sure to get it

/** Growable per-agent arrays: sentAt[seq] (ms), and a dashboard's got[seq] (0/1). */
function grow(arr, n, Type) {
  if (n < arr.length) return arr;
  const bigger = new Type(Math.max(n + 1, arr.length * 2));
  bigger.set(arr);
  return bigger;
}

/** Intervals [from, to] during which a client was not (reliably) connected. */
function windowsOf(c, endAt, before) {
  const w = [];
  for (const d of c.disconnects) w.push([d.at - before, d.back || endAt]);
  return w;
}
const inAny = (t, wins) => wins.some(([a, b]) => t >= a && t <= b);

function startAgent(app, ip, mac, periodMs) {
  const s = io(app.url, {
    transports: ['websocket'], forceNew: true, reconnection: true, reconnectionDelay: 100,
    reconnectionDelayMax: 500, timeout: 5000, localAddress: ip,
  });
  const a = { mac, s, seq: 0, sentAt: new Float64Array(64), connects: 0, disconnects: [] };
  s.on('connect', () => {
    a.connects++;
    const last = a.disconnects.at(-1);
    if (last && !last.back) last.back = Date.now();
    s.emit('clientAuth', app.agentKey);
    s.emit('initPerfData', makeSample(mac, { seq: 0 }));
  });
  s.on('disconnect', (reason) => a.disconnects.push({ at: Date.now(), reason, back: 0 }));
  // Start at a random phase so 1000 agents do not all send in the same ms.
  a.start = setTimeout(() => {
    a.timer = setInterval(() => {
      if (!s.connected) return;
      a.seq++;
      a.sentAt = grow(a.sentAt, a.seq, Float64Array);
      a.sentAt[a.seq] = Date.now();
      s.emit('perfData', makeSample(mac, { seq: a.seq, cpuLoad: a.seq % 100 }));
    }, periodMs);
  }, Math.floor(Math.random() * periodMs));
  a.stop = () => { clearTimeout(a.start); clearInterval(a.timer); s.close(); };
  return a;
}

function startDashboard(app, ip, index) {
  const s = io(app.url, {
    transports: ['websocket'], forceNew: true, reconnection: true, reconnectionDelay: 100,
    reconnectionDelayMax: 500, timeout: 5000, localAddress: ip,
  });
  const d = { index, s, got: new Map(), received: 0, disconnects: [], connectedAt: 0 };
  s.on('connect', () => {
    const last = d.disconnects.at(-1);
    if (last && !last.back) last.back = Date.now();
    d.connectedAt = Date.now();
    s.emit('clientAuth', app.uiKey);
  });
  s.on('disconnect', (reason) => d.disconnects.push({ at: Date.now(), reason, back: 0 }));
  s.on('data', (x) => {
    if (!x || typeof x.seq !== 'number' || x.seq < 1 || x.isActive === false) return;
    d.received++;
    let arr = d.got.get(x.macA) || new Uint8Array(64);
    arr = grow(arr, x.seq, Uint8Array);
    arr[x.seq] = 1;
    d.got.set(x.macA, arr);
  });
  return d;
}

/** Least-squares slope of points [t ms, v kB], in kB per hour. */
function slopePerHour(points) {
  if (points.length < 2) return 0;
  const n = points.length;
  const mt = points.reduce((s, p) => s + p[0], 0) / n;
  const mv = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, v] of points) { num += (t - mt) * (v - mv); den += (t - mt) ** 2; }
  return den ? (num / den) * 3600e3 : 0;
}

/**
 * Runs one soak. opts: { agents, durationS, killEveryS, workers, periodMs, log }.
 * Resolves a report object (see the end of this function).
 */
export async function runSoak(opts = {}) {
  const nAgents = opts.agents || 1000;
  const durationMs = (opts.durationS || 600) * 1000;
  const killEveryMs = (opts.killEveryS ?? 60) * 1000;
  const periodMs = opts.periodMs || 1000;
  const log = opts.log || (() => {});
  const redis = await startRedis();
  const app = await startAppliance({ workers: opts.workers || 2, redisUrl: redis.url,
    args: ['--log-level', 'warn'] });
  const dashboards = [startDashboard(app, '127.0.0.250', 0), startDashboard(app, '127.0.0.251', 1),
    startDashboard(app, '127.0.0.252', 2)];
  await waitFor(() => dashboards.every((d) => d.s.connected), 5000, 'dashboards connected');
  const agents = [];
  // Agents spread over 200 source addresses (5 each at 1000), so over workers.
  const rampMs = Math.min(10000, nAgents * 10);
  for (let i = 0; i < nAgents; i++) {
    agents.push(startAgent(app, `127.0.${1 + Math.floor(i / 200)}.${2 + (i % 200)}`, `soak-${i}`, periodMs));
    if (i % 50 === 49) await sleep(rampMs / (nAgents / 50));
  }
  await waitFor(() => agents.every((a) => a.connects >= 1), 30000, 'every agent connected', 200);
  log(`soak: ${nAgents} agents connected; running ${durationMs / 1000} s, a worker killed every ${killEveryMs / 1000} s`);

  const t0 = Date.now();
  const rss = [];       // { at, master, workers }
  const kills = [];     // { at, pid }
  let nextKill = killEveryMs > 0 ? t0 + killEveryMs : Infinity;   // --kill-every 0: never
  let nextRss = t0;
  let k = 0;
  while (Date.now() - t0 < durationMs) {
    const now = Date.now();
    if (now >= nextRss) {
      const pids = workerPids(app);
      rss.push({ at: now, master: rssKb(app.proc.pid), workers: pids.reduce((s, p) => s + rssKb(p), 0),
        nworkers: pids.length });
      nextRss += 5000;
    }
    if (now >= nextKill && now - t0 < durationMs - 5000) {
      const pids = workerPids(app).sort((a, b) => a - b);
      const pid = pids[k++ % pids.length];
      process.kill(pid, 'SIGKILL');
      kills.push({ at: now, pid });
      log(`soak: t+${Math.round((now - t0) / 1000)} s: kill -9 worker pid ${pid}`);
      nextKill += killEveryMs;
    }
    await sleep(Math.max(10, Math.min(nextRss, nextKill) - Date.now()));
  }
  const endAt = Date.now();
  for (const a of agents) { clearTimeout(a.start); clearInterval(a.timer); }
  await sleep(3000);    // in-flight samples land
  const respawns = await metric(app, 'perfload_worker_respawns_total');
  const rejected = await metric(app, 'perfload_samples_rejected_total');
  const output = app.proc.output();

  // Count.
  let sent = 0;
  let excluded = 0;
  let expected = 0;
  let lost = 0;
  const lostExamples = [];
  const agentWins = agents.map((a) => windowsOf(a, endAt + 3000, IN_FLIGHT_MS));
  const dashWins = dashboards.map((d) => windowsOf(d, endAt + 3000, IN_FLIGHT_MS));
  const reconnectMs = [];
  for (const a of agents) for (const d of a.disconnects) if (d.back) reconnectMs.push(d.back - d.at);
  for (const [i, a] of agents.entries()) {
    for (let seq = 1; seq <= a.seq; seq++) {
      const t = a.sentAt[seq];
      if (t < t0) continue;          // only the measured window
      sent++;
      if (inAny(t, agentWins[i])) { excluded++; continue; }
      for (const [j, d] of dashboards.entries()) {
        if (inAny(t, dashWins[j]) || inAny(t + SETTLE_MS, dashWins[j])) continue;
        expected++;
        const got = d.got.get(a.mac);
        if (!got || !got[seq]) {
          lost++;
          if (lostExamples.length < 10) lostExamples.push({ mac: a.mac, seq, sentAt: t - t0, dashboard: j });
        }
      }
    }
  }
  reconnectMs.sort((x, y) => x - y);
  const steady = rss.filter((r) => r.at - t0 >= Math.min(30000, durationMs / 4));
  const report = {
    agents: nAgents,
    duration_s: Math.round((endAt - t0) / 1000),
    kills: kills.length,
    respawns,
    samples_sent: sent,
    samples_in_reconnect_windows: excluded,
    deliveries_expected: expected,
    lost,
    lost_examples: lostExamples,
    samples_rejected: rejected,
    agent_disconnects: reconnectMs.length,
    reconnect_ms: reconnectMs.length ? { min: reconnectMs[0], median: reconnectMs[reconnectMs.length >> 1],
      max: reconnectMs.at(-1) } : null,
    dashboard_disconnects: dashboards.map((d) => d.disconnects.length),
    rss_kb: {
      master: { start: rss[0]?.master, end: rss.at(-1)?.master, max: Math.max(...rss.map((r) => r.master)),
        growth_per_hour: Math.round(slopePerHour(steady.map((r) => [r.at, r.master]))) },
      workers: { start: rss[0]?.workers, end: rss.at(-1)?.workers, max: Math.max(...rss.map((r) => r.workers)),
        growth_per_hour: Math.round(slopePerHour(steady.map((r) => [r.at, r.workers]))) },
      samples: rss.length,
    },
    unexpected_worker_deaths: (output.match(/killed by signal (?!9\b)\d+|exited with status [1-9]/g) || []).length,
  };
  for (const a of agents) a.stop();
  for (const d of dashboards) d.s.close();
  await app.stop();
  await cleanup();
  return report;
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
  const report = await runSoak({
    agents: Number(opt('--agents', 1000)), durationS: Number(opt('--duration', 600)),
    killEveryS: Number(opt('--kill-every', 60)), workers: Number(opt('--workers', 2)),
    log: (m) => process.stderr.write(m + '\n'),
  });
  const text = JSON.stringify(report, null, 2);
  const out = opt('--json', '');
  if (out) fs.writeFileSync(out, text + '\n');
  process.stdout.write(text + '\n');
  const ok = report.lost === 0 && report.unexpected_worker_deaths === 0;
  process.stderr.write(`soak: ${ok ? 'PASS' : 'FAIL'}: ${report.lost} lost of ${report.deliveries_expected} expected deliveries, ` +
    `${report.kills} kills, worker RSS ${report.rss_kb.workers.start} -> ${report.rss_kb.workers.end} kB ` +
    `(${report.rss_kb.workers.growth_per_hour} kB/h), master ${report.rss_kb.master.start} -> ${report.rss_kb.master.end} kB ` +
    `(${report.rss_kb.master.growth_per_hour} kB/h)\n`);
  process.exit(ok ? 0 : 1);
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  main().catch(async (e) => { process.stderr.write(`soak: ${e.stack}\n`); await cleanup(); process.exit(1); });
}
