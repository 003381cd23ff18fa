// Faults: the appliance keeps serving when its parts die, hang or are
// attacked, and says how long it took to recover (t.diagnostic lines, quoted
// in docs/reliability.md). Loopback only, bounded time.
//
// Covered elsewhere, not repeated here:
//   kill -9 of a worker during traffic   cluster.test.mjs "kill -9 of a worker: respawned within 1 s ..."
//   kill -9 of redis-server              redis.test.mjs "redis-server killed and restarted ..."
//   a hung worker replaced               cluster.test.mjs "a hung worker (event loop stuck) ..."
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startRedis, startAppliance, connectUi, connectFakeAgent, makeSample, waitFor, sleep, cleanup,
  startProcess,
} from './harness.mjs';
import { startMongo } from './lib/mongo.mjs';
import { loopbackRange, probeWorker, uiFrom, agentLoop } from './lib/cluster.mjs';
import { rawWs } from './lib/protocol.mjs';
import { metric, workerPids, workersRssKb, sequencedSender, openIdle, sanitizedBuild } from './lib/faults.mjs';

const FAULTS_LIB = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib/faults.mjs');
// Memory bounds are checked on the normal build only (ASan keeps freed
// memory in quarantine on purpose); everything else is checked on both.
const CHECK_RSS = !sanitizedBuild();

let redis;
// The slowloris connections are left stalled by their test and checked by
// the last one: MHD closes a connection after 60 s without a byte, and
// waiting there would make this file a minute longer.
let slow = null;

before(async () => { redis = await startRedis(); });
after(async () => { if (slow) for (const c of slow.socks) c.destroy(); await cleanup(); });

/** Maps the given source addresses to the worker slot serving each. */
async function slotsOf(app, ips) {
  const bySlot = new Map();
  for (const ip of ips) {
    const p = await probeWorker(app, ip);
    if (!bySlot.has(p.slot)) bySlot.set(p.slot, []);
    bySlot.get(p.slot).push({ ip, pid: p.pid });
  }
  return bySlot;
}

const dataOf = (ui, mac) => ui.received.filter((r) => r.data.macA === mac);

test('slowloris on the HTTP port: dashboards and /healthz keep being served while 200 connections trickle headers', async (t) => {
  const app = await startAppliance({ redisUrl: redis.url });
  const ips = loopbackRange(30, 49);
  const socks = [];
  for (let i = 0; i < 200; i++) {
    socks.push(await new Promise((resolve, reject) => {
      const c = net.connect({ port: app.httpPort, host: '127.0.0.1', localAddress: ips[i % ips.length] });
      c.closedAt = 0;
      c.on('connect', () => resolve(c));
      c.on('error', reject);
      c.on('close', () => { c.closedAt = Date.now(); });
    }));
  }
  for (const c of socks) c.on('error', () => {});
  const header = 'GET /api/config HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(64);
  let pos = 0;
  const trickle = setInterval(() => { for (const c of socks) if (!c.closedAt) c.write(header[pos % header.length]); pos++; }, 250);
  // Meanwhile: ordinary requests, one after the other, for 5 s.
  const lat = [];
  const t0 = Date.now();
  while (Date.now() - t0 < 5000) {
    const s = Date.now();
    const r = await fetch(app.httpUrl + '/healthz');
    await r.text();
    assert.ok(r.status === 200 || r.status === 503, `/healthz ${r.status}`);
    const c = await fetch(app.httpUrl + '/api/config');
    assert.equal(c.status, 200);
    await c.json();
    lat.push(Date.now() - s);
    await sleep(50);
  }
  clearInterval(trickle);
  const stalledAt = Date.now();
  const open = socks.filter((c) => !c.closedAt).length;
  const worst = Math.max(...lat);
  t.diagnostic(`slowloris: ${socks.length} trickling connections (${open} still open), ${lat.length} normal request pairs, worst ${worst} ms`);
  assert.ok(lat.length >= 20, `normal requests completed: ${lat.length}`);
  assert.ok(worst < 1000, `worst normal request pair ${worst} ms`);
  assert.equal(open, socks.length, 'a trickling connection is not closed while it sends (MHD times out idleness)');
  slow = { socks, stalledAt, app };
});

test('kill -9 of the Mongo server mid-traffic: live relay goes on, the queue holds, every sample is written after restart', async (t) => {
  const mongo = await startMongo();
  const app = await startAppliance({ workers: 2, redisUrl: redis.url, mongoUrl: mongo.url });
  const ui = await connectUi(app);
  const macs = ['fault-mongo-1', 'fault-mongo-2', 'fault-mongo-3'];
  const agents = [];
  for (const mac of macs) {
    const sock = await connectFakeAgent(app);
    sock.emit('initPerfData', makeSample(mac, { seq: 0 }));
    agents.push({ mac, sock, ...sequencedSender(sock, mac, 200, makeSample) });
  }
  const samples = mongo.db().collection('samples');
  await waitFor(async () => (await samples.countDocuments({ macA: { $in: macs } })) >= 6, 8000, 'samples in Mongo before the fault');

  await mongo.kill();
  const downAt = Date.now();
  let healthy = true;
  let depth = 0;
  while (Date.now() - downAt < 5000) {
    await sleep(500);
    const h = await fetch(app.httpUrl + '/healthz');
    await h.text();
    healthy = healthy && h.status === 200;
    depth = Math.max(depth, await metric(app, 'perfload_mongo_queue_depth'));
  }
  await mongo.restart();
  const upAt = Date.now();
  const outage = agents.map((a) => a.sent.filter((s) => s.at >= downAt && s.at < upAt).map((s) => s.seq));

  // Live relay never depended on Mongo: the UI got every outage sample promptly.
  for (const [i, a] of agents.entries()) {
    const got = dataOf(ui, a.mac).filter((r) => r.data.sentAt >= downAt && r.data.sentAt < upAt);
    assert.ok(got.length >= outage[i].length - 1, `${a.mac}: UI got ${got.length} of ${outage[i].length}`);
    const worst = Math.max(...got.map((r) => r.at - r.data.sentAt));
    assert.ok(worst < 1000, `${a.mac}: worst UI latency while Mongo was dead ${worst} ms`);
  }
  assert.ok(healthy, '/healthz stayed 200 with Mongo dead');
  assert.ok(depth >= 10, `the queue held the samples (max depth ${depth})`);

  // After the restart every sample sent while Mongo was dead is written.
  await waitFor(async () => {
    for (const [i, a] of agents.entries()) {
      const have = new Set((await samples.find({ macA: a.mac }, { projection: { seq: 1 } }).toArray()).map((d) => d.seq));
      if (!outage[i].every((s) => have.has(s))) return false;
    }
    return true;
  }, 20000, 'every outage sample in Mongo after the restart', 200);
  const writtenAt = Date.now();
  await waitFor(async () => (await metric(app, 'perfload_mongo_queue_depth')) === 0, 5000, 'the queue drained');
  assert.equal(await metric(app, 'perfload_samples_dropped_total'), 0, 'nothing dropped');
  const n = outage.reduce((s, o) => s + o.length, 0);
  t.diagnostic(`mongo kill -9: ${n} samples queued during ${upAt - downAt} ms (max queue ${depth}), ` +
    `all written ${writtenAt - upAt} ms after the server was back`);
  for (const a of agents) { a.stop(); a.sock.close(); }
  ui.close();
  await app.stop();
  await mongo.close();
});

test('kill -9 of an agent in the middle of a WebSocket frame: its session is freed, others unaffected', async (t) => {
  const app = await startAppliance({ redisUrl: redis.url });
  const ui = await connectUi(app);
  const other = await connectFakeAgent(app);
  const otherSend = sequencedSender(other, 'fault-frame-other', 100, makeSample);
  const mac = 'fault-half-frame';
  const proc = startProcess(process.execPath, [FAULTS_LIB, 'half-frame', String(app.port), app.agentKey, mac]);
  await waitFor(() => /half-frame sent/.test(proc.output()), 5000, 'the half frame');
  await waitFor(() => dataOf(ui, mac).length >= 1, 3000, 'its sample at the UI');
  const conns = await metric(app, 'perfload_worker_connections');
  proc.kill('SIGKILL');
  const killedAt = Date.now();
  await proc.exited;
  const off = await waitFor(() => dataOf(ui, mac).find((r) => r.data.isActive === false), 5000, 'offline data');
  await waitFor(async () => (await metric(app, 'perfload_worker_connections')) === conns - 1, 3000, 'the session freed');
  const freedAt = Date.now();
  t.diagnostic(`agent kill -9 mid-frame: offline at the UI after ${off.at - killedAt} ms, session gone within ${freedAt - killedAt} ms`);
  assert.ok(off.at - killedAt < 4000);
  // The other agent's samples kept flowing, in order, none lost.
  await sleep(300);
  otherSend.stop();
  const seqs = dataOf(ui, 'fault-frame-other').map((r) => r.data.seq);
  const sent = otherSend.sent.map((s) => s.seq);
  await waitFor(() => dataOf(ui, 'fault-frame-other').length >= sent.length, 2000, 'all of the other agent');
  assert.deepEqual(dataOf(ui, 'fault-frame-other').map((r) => r.data.seq).slice(0, sent.length), sent);
  assert.ok(seqs.length > 0);
  assert.equal(ui.connected, true);
  assert.equal(other.connected, true);
  assert.equal(await metric(app, 'perfload_worker_respawns_total'), 0, 'no worker died');
  other.close();
  ui.close();
  await app.stop();
});

test('SIGSTOP of a worker: it is killed after --worker-timeout, its agents reconnect and are served again, the other worker never notices', async (t) => {
  const app = await startAppliance({ workers: 2, redisUrl: redis.url, args: ['--worker-timeout', '2000'] });
  const bySlot = await slotsOf(app, loopbackRange(2, 24));
  assert.equal(bySlot.size, 2);
  const victims = bySlot.get(0).slice(0, 3);
  const others = bySlot.get(1).slice(0, 3);
  const ui = await uiFrom(app, bySlot.get(1)[3].ip, { transports: ['websocket'] });
  const vAgents = victims.map((v, i) => agentLoop(app, v.ip, `fault-stop-v${i}`, { clientOpts: { transports: ['websocket'] } }));
  const oAgents = others.map((o, i) => agentLoop(app, o.ip, `fault-stop-o${i}`, { clientOpts: { transports: ['websocket'] } }));
  await waitFor(() => [...vAgents, ...oAgents].every((a) => a.connects >= 1), 5000, 'agents connected');
  await sleep(2200);                    // past the start-up grace of --worker-timeout

  const stoppedPid = victims[0].pid;
  process.kill(stoppedPid, 'SIGSTOP');
  const stopAt = Date.now();
  await waitFor(() => /has not ticked for \d+ ms: killing it/.test(app.proc.output()), 5000, 'the master to kill the hung worker');
  const killedAt = Date.now();
  const back = [];
  for (let i = 0; i < vAgents.length; i++) {
    const r = await waitFor(() => dataOf(ui, `fault-stop-v${i}`).find((d) => d.at > killedAt && d.data.isActive !== false),
      8000, `victim ${i} served again`);
    back.push(r.at - stopAt);
  }
  t.diagnostic(`worker SIGSTOP: master killed it after ${killedAt - stopAt} ms (--worker-timeout 2000); ` +
    `its agents served again ${Math.min(...back)}-${Math.max(...back)} ms after the stop`);
  assert.ok(Math.max(...back) < 8000);
  const p = await probeWorker(app, victims[0].ip);
  assert.equal(p.slot, 0);
  assert.notEqual(p.pid, stoppedPid);
  for (const a of oAgents) assert.deepEqual(a.disconnects, [], 'agents of the other worker stayed connected');
  assert.deepEqual(ui.disconnects, []);
  for (const a of [...vAgents, ...oAgents]) a.stop();
  ui.close();
  assert.equal((await app.stop()).code, 0);
});

test('a dashboard that never reads while agents send: dropped at --send-queue-max, other dashboards get everything, memory bounded', async (t) => {
  const app = await startAppliance({ redisUrl: redis.url, args: ['--send-queue-max', '262144'] });
  const good = await connectUi(app, { transports: ['websocket'] });
  await sleep(300);
  const rss0 = workersRssKb(app);
  const stuck = rawWs({ wsUrl: `ws://127.0.0.1:${app.port}` });
  await stuck.next('0{');
  stuck.send('40');
  await stuck.next('40{');
  stuck.send(`42${JSON.stringify(['clientAuth', app.uiKey])}`);
  await sleep(200);
  stuck._socket.pause();                // never reads again: kernel buffers fill, then the engine's queue
  const dropped0 = await metric(app, 'perfload_slow_clients_dropped_total');
  const pad = Array.from({ length: 40 }, (_, i) => String(i).padEnd(1000, 'x'));   // ~40 KB per sample
  const senders = [];
  for (let i = 0; i < 5; i++) {
    const s = await connectFakeAgent(app);
    senders.push({ sock: s, ...sequencedSender(s, `fault-flood-${i}`, 100, (mac, over) => makeSample(mac, { ...over, pad })) });
  }
  const t0 = Date.now();
  let peak = 0;
  await waitFor(async () => {
    peak = Math.max(peak, workersRssKb(app));
    return (await metric(app, 'perfload_slow_clients_dropped_total')) > dropped0;
  }, 30000, 'the stuck dashboard dropped', 250);
  const droppedAfter = Date.now() - t0;
  for (const s of senders) s.stop();
  await sleep(500);
  // The good dashboard received every sample of every agent.
  for (const [i, s] of senders.entries()) {
    const want = s.sent.map((x) => x.seq);
    await waitFor(() => dataOf(good, `fault-flood-${i}`).length >= want.length, 5000, `all samples of agent ${i}`);
    assert.deepEqual(dataOf(good, `fault-flood-${i}`).map((r) => r.data.seq), want);
  }
  assert.equal(good.connected, true);
  await sleep(500);
  const rss1 = workersRssKb(app);
  t.diagnostic(`never-reading dashboard: dropped ${droppedAfter} ms after the flood began; worker RSS ${rss0} -> peak ${peak} -> ${rss1} kB${CHECK_RSS ? '' : ' (ASan build: RSS not checked)'}`);
  if (CHECK_RSS) assert.ok(peak - rss0 < 64 * 1024, `worker RSS grew ${peak - rss0} kB at most`);
  for (const s of senders) s.sock.close();
  good.close();
  stuck.terminate();
  await app.stop();
});

test('5,000 half-open connections (connect, send nothing): all closed by the idle timeout, worker memory back near baseline, service uninterrupted', async (t) => {
  const app = await startAppliance({ workers: 2, redisUrl: redis.url });
  const ui = await connectUi(app, { transports: ['websocket'] });
  const agent = await connectFakeAgent(app, { transports: ['websocket'] });
  const send = sequencedSender(agent, 'fault-halfopen', 250, makeSample);
  await sleep(500);
  const rss0 = workersRssKb(app);
  // Node raises its soft RLIMIT_NOFILE to the hard limit when it starts, and
  // the appliance inherits that: both need room for 5,000 sockets.
  for (const pid of ['self', app.proc.pid]) {
    const lim = Number(/Max open files\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'))[1]);
    assert.ok(lim >= 12000, `open-file limit of ${pid} is ${lim}: raise the hard limit (ulimit -Hn) to run this test`);
  }
  const ips = loopbackRange(100, 149);  // 100 per address: under any per-address cap
  const refused0 = await metric(app, 'perfload_handoff_failed_total');
  const t0 = Date.now();
  const socks = await openIdle(app.port, 5000, ips);
  const openedIn = Date.now() - t0;
  await waitFor(async () => (await metric(app, 'perfload_accepted_total')) >= 5000, 10000, 'the master to accept them all');
  await sleep(1000);
  const rssPeak = workersRssKb(app);
  await waitFor(() => socks.every((c) => c.closedAt), 40000, 'every idle connection closed by the server', 250);
  const closedAt = Date.now();
  const closeTimes = socks.map((c) => c.closedAt - c.openedAt).sort((a, b) => a - b);
  // A worker that cannot take a burst fast enough fills its socketpair and
  // the master's per-slot queue; what overflows is closed at once and
  // counted. Everything else must wait for the idle timeout.
  const refused = (await metric(app, 'perfload_handoff_failed_total')) - refused0;
  const early = closeTimes.filter((ms) => ms < 5000).length;
  // Workers hand freed heap back to the kernel every 10 s (malloc_trim).
  let rss1 = 0;
  const settled = await waitFor(() => {
    rss1 = workersRssKb(app);
    return rss1 - rss0 < (rssPeak - rss0) / 4 + 2048 ? Date.now() : 0;
  }, CHECK_RSS ? 15000 : 1, 'worker RSS back near baseline', 250).catch(() => 0);
  send.stop();
  await sleep(300);
  const want = send.sent.map((s) => s.seq);
  await waitFor(() => dataOf(ui, 'fault-halfopen').length >= want.length, 3000, 'all samples');
  t.diagnostic(`5000 half-open: opened in ${openedIn} ms; closed after ${closeTimes[0]}..${closeTimes.at(-1)} ms ` +
    `(median ${closeTimes[2500]}; ${early} closed at once, ${refused} refused by the master as overflow); worker RSS ${rss0} -> ${rssPeak} -> ${rss1} kB` +
    (settled ? ` (${settled - closedAt} ms after the last close)` : '') + (CHECK_RSS ? '' : ' (ASan build: RSS not checked)'));
  assert.ok(early <= refused, `${early} closed before the idle timeout, ${refused} of them counted as overflow`);
  assert.ok(early < 500, `most connections were taken (${early} overflowed)`);
  assert.deepEqual(dataOf(ui, 'fault-halfopen').map((r) => r.data.seq).slice(0, want.length), want, 'service went on');
  assert.equal(ui.connected, true);
  if (CHECK_RSS) assert.ok(settled, `RSS back near baseline: ${rss0} -> ${rssPeak} -> ${rss1} kB`);
  for (const pid of workerPids(app)) assert.ok(pid > 0);
  assert.equal(await metric(app, 'perfload_worker_respawns_total'), 0);
  agent.close();
  ui.close();
  await app.stop();
});

test('the slowloris connections, once stalled, are closed by the HTTP server\'s idle timeout', async (t) => {
  assert.ok(slow, 'the slowloris test ran');
  await waitFor(() => slow.socks.every((c) => c.closedAt), Math.max(1000, slow.stalledAt + 75000 - Date.now()),
    'every stalled slowloris connection closed', 250);
  const after = slow.socks.map((c) => c.closedAt - slow.stalledAt).sort((a, b) => a - b);
  t.diagnostic(`slowloris: stalled connections closed ${after[0]}..${after.at(-1)} ms after their last byte`);
  assert.ok(after[0] >= 50000, 'not before the idle timeout');
  const r = await fetch(slow.app.httpUrl + '/api/config');
  assert.equal(r.status, 200);
  await r.text();
});
