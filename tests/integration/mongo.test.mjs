// MongoDB history: what agents send ends up in `samples` and `machines`,
// the history API reads it back, and a Mongo outage loses nothing and
// slows nobody. Runs against the CongoDB test server (or a real mongod with
// PERFLOAD_TEST_MONGOD=/path/to/mongod).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import {
  startRedis, startAppliance, startAgent, stopProcess, connectFakeAgent, connectUi, makeSample, waitFor, cleanup, sleep,
  freePort,
} from './harness.mjs';
import { startMongo } from './lib/mongo.mjs';
import { api } from './lib/http.mjs';

let redis;
let mongo;
let app;
const DAY = 86400e3;

/** Sums a metric family over all its label sets (0 when absent). */
async function metric(appliance, name) {
  const text = await (await fetch(appliance.httpUrl + '/metrics')).text();
  const fam = parsePrometheusTextFormat(text).find((f) => f.name === name);
  return fam ? fam.metrics.reduce((s, m) => s + Number(m.value), 0) : 0;
}

/** An agent emitting one perfData per interval with a sequence number; returns { stop(), sent }. */
async function runAgent(appliance, mac, intervalMs = 1000) {
  const sock = await connectFakeAgent(appliance);
  const sent = [];
  sock.emit('initPerfData', makeSample(mac, { seq: 0, sentAt: Date.now() }));
  let seq = 1;
  const timer = setInterval(() => {
    const s = makeSample(mac, { cpuLoad: (seq * 7) % 100, seq, sentAt: Date.now() });
    sent.push({ seq, at: s.sentAt });
    sock.emit('perfData', s);
    seq++;
  }, intervalMs);
  return { sock, sent, stop: () => { clearInterval(timer); } };
}

before(async () => {
  redis = await startRedis();
  mongo = await startMongo();
  // A sample from beyond the retention window: the writer's periodic delete must remove it.
  await mongo.db().collection('samples').insertOne({ macA: 'ancient', ts: new Date(Date.now() - 8 * DAY), cpuLoad: 1 });
  app = await startAppliance({ redisUrl: redis.url, mongoUrl: mongo.url, workers: 2 });
});
after(async () => { await mongo.close().catch(() => {}); await cleanup(); });

describe('history in MongoDB', () => {
  const macs = ['mongo:aa:01', 'mongo:aa:02', 'mongo:aa:03'];
  let t0;
  let t1;
  let agents;

  test('3 agents for 10 s → 3 machines and every sample in `samples`', async () => {
    t0 = Date.now();
    agents = await Promise.all(macs.map((m) => runAgent(app, m)));
    await sleep(10_300);
    agents.forEach((a) => a.stop());
    t1 = Date.now();
    const samples = mongo.db().collection('samples');
    await waitFor(async () => (await samples.countDocuments({ macA: { $in: macs } })) >= 30, 8000, '30 samples in Mongo');
    const total = await samples.countDocuments({ macA: { $in: macs } });
    assert.ok(total >= 27, `samples: ${total}`);
    for (const [i, mac] of macs.entries()) {
      const docs = await samples.find({ macA: mac }).toArray();
      const seqs = new Set(docs.map((d) => d.seq));
      for (const { seq } of agents[i].sent) assert.ok(seqs.has(seq), `${mac} seq ${seq} stored`);
      const d = docs.find((x) => x.seq === 1);
      assert.ok(d.ts instanceof Date, 'ts is a BSON date');
      assert.ok(d.ts.getTime() >= t0 - 1000 && d.ts.getTime() <= t1 + 1000);
      assert.equal(d.cpuLoad, 7);
      assert.equal(d.totalMem, 8e9);
      assert.equal(typeof d.osType, 'undefined', 'samples keep numeric fields only');
    }

    const machines = await mongo.db().collection('machines').find({ macA: { $in: macs } }).toArray();
    assert.equal(machines.length, 3);
    for (const m of machines) {
      assert.equal(m.osType, 'Linux');
      assert.equal(m.cpuModel, 'Test CPU');
      assert.equal(m.numCores, 4);
      assert.equal(m.isActive, true);
      assert.ok(m.firstSeen instanceof Date && m.lastSeen instanceof Date);
      assert.ok(m.firstSeen.getTime() >= t0 - 1000 && m.firstSeen <= m.lastSeen);
      assert.equal(m.cpuLoad, undefined, 'per-second metrics stay out of machines');
    }
    assert.ok(await metric(app, 'perfload_mongo_written_total') >= 30);
    assert.equal(await metric(app, 'perfload_mongo_up'), 2, 'both workers report Mongo up');
  });

  test('the history API returns a time range from Mongo, oldest first', async () => {
    const mac = macs[0];
    const r = await api(app, `/api/machines/${encodeURIComponent(mac)}/history?since=${t0}&until=${t1 + 1000}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.source, 'mongo');
    const pts = r.json.points;
    assert.ok(pts.length >= 10, `points: ${pts.length}`);
    for (let i = 1; i < pts.length; i++) assert.ok(pts[i].ts > pts[i - 1].ts, 'ascending');
    assert.ok(pts.every((p) => p.ts >= t0 && p.ts <= t1 + 1000));
    // 1 Hz over 10 s at the default step: every point is one sample, values exact.
    const loads = pts.map((p) => p.cpuLoad);
    assert.deepEqual(loads.slice(-agents[0].sent.length), agents[0].sent.map(({ seq }) => (seq * 7) % 100));

    // A sub-range holds only its samples.
    const mid = t0 + 5000;
    const half = await api(app, `/api/machines/${encodeURIComponent(mac)}/history?since=${mid}&until=${t1 + 1000}`);
    assert.ok(half.json.points.length < pts.length && half.json.points.every((p) => p.ts >= mid));

    // A coarse step averages: one bucket for the whole range.
    const coarse = await api(app, `/api/machines/${encodeURIComponent(mac)}/history?since=${t0}&until=${t1 + 1000}&step=3600000`);
    assert.equal(coarse.json.points.length, 1);
    const mean = pts.reduce((s, p) => s + p.cpuLoad, 0) / pts.length;
    assert.ok(Math.abs(coarse.json.points[0].cpuLoad - mean) < 1e-9);
    assert.equal(coarse.json.points[0].n, pts.length);
  });

  test('indexes exist and old samples are deleted by the retention sweep', async () => {
    const idx = await mongo.db().collection('samples').indexes();
    assert.ok(idx.some((i) => JSON.stringify(i.key) === '{"macA":1,"ts":1}'), JSON.stringify(idx));
    const ttl = idx.find((i) => JSON.stringify(i.key) === '{"ts":1}');
    assert.ok(ttl, 'TTL index on ts');
    assert.equal(ttl.expireAfterSeconds, 7 * 86400);
    await waitFor(async () => (await mongo.db().collection('samples').countDocuments({ macA: 'ancient' })) === 0,
      5000, 'the 8-day-old sample deleted');
  });

  test('machines go inactive in Mongo when their agents leave', async () => {
    agents.forEach((a) => a.sock.close());
    await waitFor(async () => {
      const docs = await mongo.db().collection('machines').find({ macA: { $in: macs } }).toArray();
      return docs.length === 3 && docs.every((d) => d.isActive === false);
    }, 8000, 'isActive false in Mongo');
  });

  test('a restarted appliance still lists the machines and their history', async () => {
    await app.stop();
    app = await startAppliance({ redisUrl: redis.url, mongoUrl: mongo.url, workers: 2 });
    const r = await api(app, '/api/machines');
    assert.equal(r.status, 200);
    const listed = r.json.machines.filter((m) => macs.includes(m.macA));
    assert.equal(listed.length, 3);
    assert.ok(listed.every((m) => m.isActive === false && m.lastSeen > 0));
    const h = await api(app, `/api/machines/${encodeURIComponent(macs[1])}/history?since=${t0}&until=${t1 + 1000}`);
    assert.equal(h.json.source, 'mongo');
    assert.ok(h.json.points.length >= 9);
  });
});

describe('stored documents', () => {
  // The writer thread builds the documents from the sample's JSON text (the
  // text the worker relays): only numbers in `samples`, scalars in
  // `machines`, strings decoded, memUsage as normalised. The BSON types
  // (int64 for whole numbers, double otherwise) are checked in
  // tests/unit/test_mongo_doc.c: the test server keeps every number as a JS
  // number, so they cannot be seen here.
  test('fields and values of a normalised sample in `samples` and `machines`', async () => {
    const mac = 'mongo:docs:01';
    const sock = await connectFakeAgent(app);
    // No memUsage and no isActive: the worker normalises, and stores what it
    // relays; 2^53-1 survives only if that text keeps the sent number token.
    sock.emit('initPerfData', { macA: mac, cpuLoad: 3, totalMem: 300, usedMem: 171, osType: 'Linux',
      cpuModel: 'T\u00e9 "q"', numCores: 2, cpuSpeed: 2400.5, big: 9007199254740991, frac: 0.25, neg: -3,
      huge: 1e21, flag: false, name: 'é😀', nested: { a: 1 }, list: [1, 2] });
    const samples = mongo.db().collection('samples');
    const machines = mongo.db().collection('machines');
    await waitFor(async () => (await samples.countDocuments({ macA: mac })) === 1
      && (await machines.countDocuments({ macA: mac })) === 1, 5000, 'sample and machine stored');

    const { _id, ts, ...d } = await samples.findOne({ macA: mac });
    assert.equal(_id._bsontype, 'ObjectId');
    assert.ok(ts instanceof Date && Math.abs(ts.getTime() - Date.now()) < 10_000, 'ts is a Date of now');
    assert.deepEqual(d, { macA: mac, cpuLoad: 3, totalMem: 300, usedMem: 171, numCores: 2, cpuSpeed: 2400.5,
      big: 9007199254740991, frac: 0.25, neg: -3, huge: 1e21, memUsage: 0.57 });

    const { _id: mid, firstSeen, lastSeen, ...m } = await machines.findOne({ macA: mac });
    assert.equal(mid._bsontype, 'ObjectId');
    assert.ok(firstSeen instanceof Date && lastSeen instanceof Date && firstSeen <= lastSeen);
    assert.deepEqual(m, { macA: mac, totalMem: 300, osType: 'Linux', cpuModel: 'T\u00e9 "q"', numCores: 2,
      cpuSpeed: 2400.5, big: 9007199254740991, frac: 0.25, neg: -3, huge: 1e21, flag: false, name: 'é😀',
      isActive: true });
    sock.close();
  });
});

describe('a real agent', () => {
  test('build/perfload-agent samples this machine into Mongo and the history API', async () => {
    const mac = 'mongo-real-agent-01';
    const since = Date.now();
    const agent = startAgent(app, { id: mac, interval: 0.5 });
    const samples = mongo.db().collection('samples');
    await waitFor(async () => (await samples.countDocuments({ macA: mac })) >= 4, 10000, '4 real samples in Mongo')
      .catch((e) => { throw new Error(`${e.message}; agent output: ${agent.output()}`); });
    await stopProcess(agent);
    // The last samples may still be in the writer's queue: wait until the count settles.
    let prev = -1;
    await waitFor(async () => {
      const n = await samples.countDocuments({ macA: mac });
      const settled = n === prev;
      prev = n;
      return settled;
    }, 5000, 'sample count settled', 400);
    const docs = await samples.find({ macA: mac }).sort({ ts: 1 }).toArray();
    for (const d of docs) {
      assert.ok(d.cpuLoad >= 0 && d.cpuLoad <= 100, `cpuLoad ${d.cpuLoad}`);
      assert.ok(d.totalMem > 0 && d.usedMem > 0 && d.usedMem <= d.totalMem);
      assert.ok(d.numCores >= 1);
    }
    const m = await mongo.db().collection('machines').findOne({ macA: mac });
    assert.equal(m.osType, 'Linux');
    assert.equal(typeof m.cpuModel, 'string');
    const h = await api(app, `/api/machines/${mac}/history?since=${since - 1000}&until=${Date.now()}`);
    assert.equal(h.json.source, 'mongo');
    assert.equal(h.json.points.length, docs.length);
    assert.deepEqual(h.json.points.map((p) => p.ts), docs.map((d) => d.ts.getTime()));
  });
});

describe('a Mongo outage', () => {
  test('Mongo down for 10 s: nothing lost, the UI stays fast, /healthz stays 200', async () => {
    const mac = 'mongo:outage:01';
    const ui = await connectUi(app);
    const agent = await runAgent(app, mac, 250);
    await sleep(1500);

    await mongo.stop();
    const down0 = Date.now();
    let healthOk = true;
    let sawQueue = 0;
    while (Date.now() - down0 < 10_000) {
      await sleep(1000);
      const h = await api(app, '/healthz', null);
      healthOk = healthOk && h.status === 200;
      sawQueue = Math.max(sawQueue, await metric(app, 'perfload_mongo_queue_depth'));
    }
    const outage = agent.sent.filter((s) => s.at >= down0).map((s) => s.seq);
    const h0 = Date.now();
    const during = await api(app, `/api/machines/${encodeURIComponent(mac)}/history?since=${down0 - 5000}`);
    const historyMs = Date.now() - h0;
    await mongo.restart();
    const up0 = Date.now();
    await sleep(1000);
    agent.stop();

    assert.ok(healthOk, '/healthz stayed 200 (Mongo is not fatal)');
    assert.ok(sawQueue >= 10, `the queue held the samples (max depth ${sawQueue})`);
    assert.ok(outage.length >= 35, `samples sent during the outage: ${outage.length}`);
    assert.equal(during.status, 200);
    assert.equal(during.json.source, 'redis', 'history falls back to the Redis list while Mongo is down');
    assert.ok(during.json.mongoError, 'and says why');
    assert.ok(during.json.points.length >= 30, `points during the outage: ${during.json.points.length}`);
    assert.ok(historyMs < 1000, `history answered in ${historyMs} ms without Mongo`);

    // UI latency during the outage: every relayed sample arrived promptly.
    const lat = ui.received.filter((r) => r.data.macA === mac && r.data.sentAt >= down0 && r.data.sentAt < up0)
      .map((r) => r.at - r.data.sentAt);
    assert.ok(lat.length >= outage.length - 2, `UI received ${lat.length} of ${outage.length}`);
    const max = Math.max(...lat);
    assert.ok(max < 1000, `worst UI latency during the outage ${max} ms`);

    const samples = mongo.db().collection('samples');
    await waitFor(async () => {
      const got = new Set((await samples.find({ macA: mac }).toArray()).map((d) => d.seq));
      return outage.every((s) => got.has(s));
    }, 15000, 'every outage sample written after Mongo returned');
    await waitFor(async () => (await metric(app, 'perfload_mongo_queue_depth')) === 0, 5000, 'queue drained');
    assert.equal(await metric(app, 'perfload_samples_dropped_total'), 0);
    assert.ok(await metric(app, 'perfload_mongo_errors_total') > 0, 'the outage was counted');
    agent.sock.close();
    ui.close();
  });

  test('a full queue drops the oldest samples and counts them, without blocking', async () => {
    const deadPort = await freePort();
    const small = await startAppliance({ redisUrl: redis.url, workers: 1,
      mongoUrl: `mongodb://127.0.0.1:${deadPort}/?serverSelectionTimeoutMS=300`, args: ['--mongo-queue', '5'] });
    const mac = 'mongo:drop:01';
    const ui = await connectUi(small);
    const agent = await connectFakeAgent(small);
    agent.emit('initPerfData', makeSample(mac));
    for (let i = 1; i <= 30; i++) agent.emit('perfData', makeSample(mac, { seq: i }));
    await waitFor(() => ui.received.filter((r) => r.data.macA === mac).length >= 31, 5000, 'UI got every sample');
    await waitFor(async () => (await metric(small, 'perfload_samples_dropped_total')) >= 25, 5000, 'drops counted');
    assert.ok(await metric(small, 'perfload_mongo_queue_depth') <= 5 + 2);
    assert.equal(await metric(small, 'perfload_mongo_up'), 0);
    const h = await api(small, '/healthz', null);
    assert.equal(h.status, 200);
    assert.equal(h.json.status, 'degraded');
    assert.equal(h.json.mongo.up, false);
    agent.close();
    ui.close();
    // Shutdown never waits long on a dead Mongo: the queue's flush is bounded.
    const s0 = Date.now();
    const { code, signal } = await small.stop(8000);
    assert.ok(Date.now() - s0 < 5000, `stopped in ${Date.now() - s0} ms`);
    assert.equal(signal, null, 'exited by itself, not killed');
    assert.equal(code, 0);
  });
});
