// The live machine table. Socket `data` events land in a pending map and are
// applied once per animation frame, so 500 agents at 1 Hz cost one React
// render per frame instead of one per event; a machine object is replaced
// (never mutated) when it changes, so memoised cards skip unchanged machines.

import { fractionToPercent, clampPercent } from './format.js';

// Sparkline window: the last SPARK_MS of samples, at most SPARK_POINTS of them.
export const SPARK_MS = 5 * 60 * 1000;
const SPARK_POINTS = 300;

export function createStore(opts = {}) {
  const raf = opts.raf || ((fn) => (typeof requestAnimationFrame === 'function'
    ? requestAnimationFrame(fn) : setTimeout(fn, 16)));
  const clock = opts.now || (() => Date.now());
  const machines = new Map();        // macA → machine (immutable snapshots)
  let pending = new Map();           // macA → { sample, at }
  let scheduled = false;
  let snapshot = { version: 0, list: [] };
  const listeners = new Set();
  // Update lag (receipt → applied) of the last flushes; read by the e2e load test.
  const stats = { flushes: 0, samples: 0, maxLagMs: 0, lastLagMs: 0, sumLagMs: 0 };

  function emit() {
    snapshot = { version: snapshot.version + 1, list: Array.from(machines.values()) };
    for (const l of listeners) l();
  }

  function applyOne(mac, sample, at) {
    const prev = machines.get(mac);
    const active = sample.isActive !== false;
    const cpu = clampPercent(sample.cpuLoad);
    const mem = fractionToPercent(sample.memUsage);
    let spark = prev ? prev.spark : { t: [], cpu: [], mem: [] };
    // Only live samples extend the sparkline; the offline notice repeats the last one.
    if (active) {
      const t = spark.t.concat(at);
      const c = spark.cpu.concat(cpu);
      const m = spark.mem.concat(mem);
      let drop = 0;
      while (drop < t.length && (t.length - drop > SPARK_POINTS || at - t[drop] > SPARK_MS)) drop++;
      spark = { t: t.slice(drop), cpu: c.slice(drop), mem: m.slice(drop) };
    }
    // lastSeen is when this browser last received a live sample; an offline
    // machine known before the page loaded gets its lastSeen from /api/machines.
    const lastSeen = active ? at : (prev ? prev.lastSeen : null);
    machines.set(mac, { mac, sample, active, cpu, mem, lastSeen, spark,
      firstSeen: prev ? prev.firstSeen : at, seeded: prev ? prev.seeded : false });
  }

  function flush() {
    scheduled = false;
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    const now = clock();
    let maxLag = 0;
    for (const [mac, { sample, at }] of batch) {
      applyOne(mac, sample, at);
      maxLag = Math.max(maxLag, now - at);
      stats.samples++;
      stats.sumLagMs += now - at;
    }
    stats.flushes++;
    stats.lastLagMs = maxLag;
    stats.maxLagMs = Math.max(stats.maxLagMs, maxLag);
    emit();
  }

  return {
    stats,
    /** Queues one sample; applied on the next animation frame. Invalid ones are ignored. */
    push(sample) {
      if (!sample || typeof sample !== 'object') return;
      const mac = sample.macA;
      if (typeof mac !== 'string' || mac === '') return;
      const at = clock();
      const prev = pending.get(mac);
      // Two samples of one machine in one frame: keep both points for the sparkline
      // by applying the older one now (rare: only when a frame is very late).
      if (prev) applyOne(mac, prev.sample, prev.at);
      pending.set(mac, { sample, at });
      if (!scheduled) { scheduled = true; raf(flush); }
    },
    /** Merges facts from GET /api/machines (lastSeen of machines already offline). */
    annotate(mac, facts) {
      const m = machines.get(mac);
      if (!m) return;
      if (facts.lastSeen && (!m.lastSeen || (!m.active && facts.lastSeen > 0))) {
        machines.set(mac, { ...m, lastSeen: facts.lastSeen });
        emit();
      }
    },
    /**
     * Prepends recent history (from the API, oldest first) to a machine's
     * sparkline, so a freshly opened page shows minutes, not seconds. Only
     * points older than the first live one are taken.
     */
    seed(mac, points) {
      const m = machines.get(mac);
      if (!m || m.seeded) return;
      const now = clock();
      const first = m.spark.t.length ? m.spark.t[0] : Infinity;
      const old = points.filter((p) => p.ts < first && now - p.ts <= SPARK_MS);
      const keep = Math.max(0, SPARK_POINTS - m.spark.t.length);
      const add = old.slice(Math.max(0, old.length - keep));
      const spark = {
        t: add.map((p) => p.ts).concat(m.spark.t),
        cpu: add.map((p) => clampPercent(p.cpuLoad)).concat(m.spark.cpu),
        mem: add.map((p) => fractionToPercent(p.memUsage)).concat(m.spark.mem),
      };
      machines.set(mac, { ...m, spark, seeded: true });
      emit();
    },
    flush,
    get(mac) { return machines.get(mac); },
    subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); },
    getSnapshot() { return snapshot; },
  };
}

/** Fleet overview from a machine list: counts and averages over online machines. */
export function summarize(list) {
  let online = 0; let cpuSum = 0; let cpuN = 0; let memSum = 0; let memN = 0;
  for (const m of list) {
    if (!m.active) continue;
    online++;
    if (m.cpu !== null) { cpuSum += m.cpu; cpuN++; }
    if (m.mem !== null) { memSum += m.mem; memN++; }
  }
  return { total: list.length, online, offline: list.length - online,
    avgCpu: cpuN ? cpuSum / cpuN : null, avgMem: memN ? memSum / memN : null };
}
