// Redis (issue 4): fan-out across workers and appliances, live state,
// liveness claimed once cluster-wide, and Redis outages. Real
// perfload-appliance processes (one with 2 workers, one with 1) sharing one
// real redis-server; clients leave from 127.0.0.x source addresses so the
// master routes them to chosen workers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT, startRedis, startAppliance, startProcess, cleanup, waitFor, sleep, client,
  makeSample, freePort, tmpdir } from './harness.mjs';
import { loopbackRange, probeWorker, pidAlive } from './lib/cluster.mjs';
import { api } from './lib/http.mjs';

let redis;
let cluster;        // 2 workers
let other;          // a second appliance on the same Redis
const ipsBySlot = new Map();   // cluster slot -> [ip...]

/** Each worker's redisUp as /healthz reports it (from the shared stats). */
async function workersRedisUp(appliance) {
  const res = await fetch(`${appliance.httpUrl}/healthz`);
  const body = await res.json();
  return body.workers.map((w) => w.redisUp);
}
const allRedisUp = async (appliance) => (await workersRedisUp(appliance)).every((u) => u === true);

before(async () => {
  redis = await startRedis();
  cluster = await startAppliance({ workers: 2, redisUrl: redis.url });
  other = await startAppliance({ workers: 1, redisUrl: redis.url });
  for (const a of [cluster, other]) await waitFor(() => allRedisUp(a), 5000, 'every worker on Redis');
  for (const ip of loopbackRange(2, 40)) {
    const { slot } = await probeWorker(cluster, ip);
    if (!ipsBySlot.has(slot)) ipsBySlot.set(slot, []);
    ipsBySlot.get(slot).push(ip);
  }
  assert.ok(ipsBySlot.get(0)?.length >= 3 && ipsBySlot.get(1)?.length >= 3,
    `addresses for both workers: ${JSON.stringify([...ipsBySlot])}`);
});
after(cleanup);

let macSeq = 0;
const uniqueMac = (tag) => `redis-${tag}-${process.pid}-${++macSeq}`;
const dataFor = (ui, mac) => ui.received.filter((r) => r.data && r.data.macA === mac).map((r) => r.data);
const ipOn = (slot, k = 0) => ipsBySlot.get(slot)[k];

/** A websocket client leaving from `ip`. */
function clientFrom(appliance, ip, opts = {}) {
  return client(appliance.url, { transports: ['websocket'], localAddress: ip, ...opts });
}

/** A dashboard from `ip`: resolves once its clientAuth is acked (it has the
 * known machines and is in room 'ui'). Records every `data`. */
async function uiFrom(appliance, ip) {
  const s = clientFrom(appliance, ip);
  s.received = [];
  s.on('data', (d) => s.received.push({ at: Date.now(), data: d }));
  assert.deepEqual(await s.timeout(5000).emitWithAck('clientAuth', appliance.uiKey), { ok: true });
  return s;
}

async function agentFrom(appliance, ip) {
  const s = clientFrom(appliance, ip);
  assert.deepEqual(await s.timeout(5000).emitWithAck('clientAuth', appliance.agentKey), { ok: true });
  return s;
}

/** An agent in its own process (so it can be SIGSTOPped). */
function agentProcess(appliance, ip, mac, everyMs = 200) {
  const script = path.join(ROOT, 'tests/integration/lib/agent-proc.mjs');
  return startProcess(process.execPath, [script, appliance.url, appliance.agentKey, mac, String(everyMs), ip]);
}

test('a UI on worker 0 receives an agent on worker 1', async () => {
  const uiIp = ipOn(0);
  const agentIp = ipOn(1);
  const [u, a] = [await probeWorker(cluster, uiIp), await probeWorker(cluster, agentIp)];
  assert.notEqual(u.slot, a.slot, 'different workers');
  assert.notEqual(u.pid, a.pid);
  const ui = await uiFrom(cluster, uiIp);
  const agent = await agentFrom(cluster, agentIp);
  const mac = uniqueMac('xworker');
  agent.emit('initPerfData', makeSample(mac, { cpuLoad: 1 }));
  for (let i = 2; i <= 5; i++) agent.emit('perfData', makeSample(mac, { cpuLoad: i }));
  await waitFor(() => dataFor(ui, mac).length >= 5, 5000, 'five samples across workers');
  await sleep(200);
  assert.deepEqual(dataFor(ui, mac).map((d) => d.cpuLoad), [1, 2, 3, 4, 5]);
  // The agent leaves: the other worker's UI hears it within 3 s, once.
  const leftAt = Date.now();
  agent.close();
  await waitFor(() => dataFor(ui, mac).some((d) => d.isActive === false), 3000, 'offline across workers');
  assert.ok(Date.now() - leftAt < 3000);
  await sleep(1000);
  const off = dataFor(ui, mac).filter((d) => d.isActive === false);
  assert.equal(off.length, 1, 'exactly once');
  assert.equal(off[0].cpuLoad, 5, 'the last sample');
  ui.close();
});

test('two appliances on one Redis: every sample of an agent on A reaches a UI on B, in order', async () => {
  const uiB = await uiFrom(other, '127.0.0.1');
  const agentA = await agentFrom(cluster, ipOn(1));
  const mac = uniqueMac('xapp');
  for (let seq = 1; seq <= 50; seq++) {
    agentA.emit('perfData', makeSample(mac, { seq }));
    if (seq % 10 === 0) await sleep(10);
  }
  await waitFor(() => dataFor(uiB, mac).length >= 50, 5000, '50 samples on the other appliance');
  await sleep(200);
  assert.deepEqual(dataFor(uiB, mac).map((d) => d.seq), Array.from({ length: 50 }, (_, i) => i + 1));
  // And the other way round: an agent on B, a UI on each worker of A.
  const ui0 = await uiFrom(cluster, ipOn(0, 1));
  const ui1 = await uiFrom(cluster, ipOn(1, 1));
  const agentB = await agentFrom(other, '127.0.0.1');
  const mac2 = uniqueMac('xapp-back');
  for (let seq = 1; seq <= 20; seq++) agentB.emit('perfData', makeSample(mac2, { seq }));
  for (const ui of [ui0, ui1]) {
    await waitFor(() => dataFor(ui, mac2).length >= 20, 5000, '20 samples from B');
    assert.deepEqual(dataFor(ui, mac2).map((d) => d.seq), Array.from({ length: 20 }, (_, i) => i + 1));
  }
  for (const s of [uiB, agentA, ui0, ui1, agentB]) s.close();
});

test('20 agents x 10 samples: every UI receives all 200, none twice', async () => {
  const uis = [await uiFrom(cluster, ipOn(0, 2)), await uiFrom(cluster, ipOn(1, 2)),
    await uiFrom(other, '127.0.0.1')];
  const tag = uniqueMac('fan');
  const agents = [];
  const ips = loopbackRange(2, 21);
  for (let i = 0; i < 20; i++) {
    // Two of three agents on the 2-worker appliance (both workers), one of three on the other.
    agents.push(await agentFrom(i % 3 === 2 ? other : cluster, ips[i]));
  }
  await Promise.all(agents.map(async (a, i) => {
    for (let seq = 1; seq <= 10; seq++) {
      a.emit('perfData', makeSample(`${tag}-${i}`, { seq }));
      await sleep(5);
    }
  }));
  const ours = (ui) => ui.received.filter((r) => String(r.data.macA).startsWith(`${tag}-`));
  for (const ui of uis) await waitFor(() => ours(ui).length >= 200, 10000, 'all 200 samples');
  await sleep(500);   // anything extra would have arrived by now
  for (const ui of uis) {
    const keys = ours(ui).map((r) => `${r.data.macA}#${r.data.seq}`);
    assert.equal(keys.length, 200, 'exactly 200');
    assert.equal(new Set(keys).size, 200, 'none twice');
    for (let i = 0; i < 20; i++) {
      const seqs = ours(ui).filter((r) => r.data.macA === `${tag}-${i}`).map((r) => r.data.seq);
      assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], `agent ${i} in order`);
    }
  }
  for (const s of [...uis, ...agents]) s.close();
});

test('a silent agent (SIGSTOP): exactly one offline data within 5 s everywhere; SIGCONT: active again', async () => {
  const uis = [await uiFrom(cluster, ipOn(0, 3)), await uiFrom(cluster, ipOn(1, 3)),
    await uiFrom(other, '127.0.0.1')];
  const mac = uniqueMac('stop');
  const proc = agentProcess(cluster, ipOn(1, 4), mac, 200);
  for (const ui of uis) await waitFor(() => dataFor(ui, mac).length >= 3, 5000, 'live samples');

  proc.kill('SIGSTOP');
  const stoppedAt = Date.now();
  const offline = (ui) => ui.received.filter((r) => r.data.macA === mac && r.data.isActive === false);
  for (const ui of uis) await waitFor(() => offline(ui).length >= 1, 6000, 'the offline data');
  for (const ui of uis) {
    const lastLive = Math.max(...ui.received.filter((r) => r.data.macA === mac && r.data.isActive).map((r) => r.at));
    const at = offline(ui)[0].at;
    assert.ok(at - lastLive <= 5000, `offline ${at - lastLive} ms after the last sample`);
    assert.ok(at - stoppedAt <= 5000, `offline ${at - stoppedAt} ms after SIGSTOP`);
    assert.ok(at - lastLive >= 2500, 'not before the liveness timeout');
  }
  await sleep(1500);  // three more sweeps on every worker: still one
  for (const ui of uis) assert.equal(offline(ui).length, 1, 'exactly one offline per UI');

  proc.kill('SIGCONT');
  const resumedAt = Date.now();
  for (const ui of uis) {
    await waitFor(() => ui.received.some((r) => r.data.macA === mac && r.data.isActive === true &&
      r.at >= resumedAt), 5000, 'active again');
  }
  proc.kill('SIGTERM');
  await proc.exited;
  for (const s of uis) s.close();
});

test('redis-server killed and restarted: no worker exits, relay resumes within 5 s, the view is right', async () => {
  const before = [await probeWorker(cluster, ipOn(0)), await probeWorker(cluster, ipOn(1)),
    await probeWorker(other, '127.0.0.1')];
  const ui0 = await uiFrom(cluster, ipOn(0, 5));     // another worker than the agents
  const ui1 = await uiFrom(cluster, ipOn(1, 5));     // the agents' own worker
  const uiB = await uiFrom(other, '127.0.0.1');       // another appliance
  const keepMac = uniqueMac('keep');
  const leaveMac = uniqueMac('leave');
  const keep = agentProcess(cluster, ipOn(1, 6), keepMac, 200);
  const leaver = await agentFrom(cluster, ipOn(1, 7));
  leaver.emit('perfData', makeSample(leaveMac, { cpuLoad: 42 }));
  for (const ui of [ui0, ui1, uiB]) {
    await waitFor(() => dataFor(ui, keepMac).length >= 2 && dataFor(ui, leaveMac).length >= 1, 5000,
      'both machines before the outage');
  }

  await redis.kill();
  const downAt = Date.now();
  await waitFor(async () => (await workersRedisUp(cluster)).every((u) => u === false), 3000,
    '/healthz to show every worker without Redis');
  await sleep(300);
  leaver.close();                                   // leaves while Redis is down
  // The agents' own worker keeps serving its UI.
  await waitFor(() => ui1.received.some((r) => r.data.macA === keepMac && r.at > downAt + 500), 3000,
    'local relay during the outage');
  await waitFor(() => dataFor(ui1, leaveMac).some((d) => d.isActive === false), 3000,
    'local offline during the outage');
  await sleep(1500);

  await redis.restart();
  const backAt = Date.now();
  for (const ui of [ui0, uiB]) {
    await waitFor(() => ui.received.some((r) => r.data.macA === keepMac && r.at > backAt), 5000,
      'cross-worker relay after Redis is back');
    await waitFor(() => dataFor(ui, leaveMac).some((d) => d.isActive === false), 5000,
      'the machine that left during the outage shows offline');
    assert.ok(Date.now() - backAt <= 5500);
  }
  await waitFor(() => allRedisUp(cluster), 3000, '/healthz to show Redis back');
  // A dashboard opened now sees both machines correctly from the rebuilt state.
  const late = await uiFrom(other, '127.0.0.1');
  const lastOf = (mac) => dataFor(late, mac).at(-1);
  await waitFor(() => lastOf(keepMac) && lastOf(leaveMac), 3000, 'both machines for a new UI');
  assert.equal(lastOf(leaveMac).isActive, false);
  assert.equal(lastOf(leaveMac).cpuLoad, 42);
  assert.equal(lastOf(keepMac).isActive, true);

  // No worker exited or was replaced.
  const afterProbe = [await probeWorker(cluster, ipOn(0)), await probeWorker(cluster, ipOn(1)),
    await probeWorker(other, '127.0.0.1')];
  assert.deepEqual(afterProbe.map((p) => p.pid), before.map((p) => p.pid), 'same worker pids');
  for (const p of before) assert.ok(pidAlive(p.pid));
  assert.equal(cluster.proc.exitCode, null);
  assert.equal(other.proc.exitCode, null);
  // The outage is logged once per link, not once per message or retry.
  const lost = cluster.proc.output().split('\n').filter((l) => /redis.*lost/.test(l));
  assert.ok(lost.length >= 1 && lost.length <= 4, `outage lines: ${lost.length}`);
  assert.ok(Date.now() - downAt < 15000);
  keep.kill('SIGTERM');
  await keep.exited;
  for (const s of [ui0, ui1, uiB, late]) s.close();
});

/** redis-cli against a test Redis: stdout lines (--raw). */
function rcli(port, ...args) {
  return execFileSync('redis-cli', ['-p', String(port), '--raw', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .replace(/\n$/, '').split('\n');
}

test('the live state in Redis is exactly the documented keys', async () => {
  const agent = await agentFrom(cluster, ipOn(0, 8));
  const mac = uniqueMac('keys');
  const t0 = Date.now();
  await agent.timeout(3000).emitWithAck('initPerfData', makeSample(mac, { cpuLoad: 10 }));
  for (let i = 1; i <= 3; i++) await agent.timeout(3000).emitWithAck('perfData', makeSample(mac, { cpuLoad: 10 + i }));
  await waitFor(() => rcli(redis.port, 'LLEN', `perfload:history:${mac}`)[0] === '4', 3000, 'history written');

  assert.ok(rcli(redis.port, 'SMEMBERS', 'perfload:machines').includes(mac));
  const h = rcli(redis.port, 'HGETALL', `perfload:machine:${mac}`);
  const hash = Object.fromEntries(Array.from({ length: h.length / 2 }, (_, i) => [h[2 * i], h[2 * i + 1]]));
  assert.deepEqual(Object.keys(hash).sort(), ['active', 'firstSeen', 'lastSeen', 'sample']);
  assert.deepEqual(JSON.parse(hash.sample), makeSample(mac, { cpuLoad: 13 }));
  assert.equal(hash.active, '1');
  const lastSeen = Number(hash.lastSeen);
  assert.ok(lastSeen >= t0 && lastSeen <= Date.now(), 'lastSeen is epoch ms');
  assert.ok(Number(hash.firstSeen) >= t0 && Number(hash.firstSeen) <= lastSeen);
  assert.equal(Number(rcli(redis.port, 'ZSCORE', 'perfload:alive', mac)[0]), lastSeen);

  const hist = rcli(redis.port, 'LRANGE', `perfload:history:${mac}`, '0', '-1').map((l) => JSON.parse(l));
  assert.deepEqual(hist.map((e) => e.cpuLoad), [13, 12, 11, 10], 'newest first');
  for (const e of hist) {
    assert.deepEqual(Object.keys(e), ['ts', 'cpuLoad', 'memUsage', 'usedMem', 'freeMem']);
    assert.equal(e.memUsage, 0.5);
    assert.equal(e.usedMem, 4e9);
  }
  assert.ok(hist[0].ts >= hist[3].ts);

  agent.close();
  await waitFor(() => rcli(redis.port, 'HGET', `perfload:machine:${mac}`, 'active')[0] === '0', 3000, 'inactive');
  assert.equal(JSON.parse(rcli(redis.port, 'HGET', `perfload:machine:${mac}`, 'sample')[0]).isActive, false);
  assert.equal(rcli(redis.port, 'ZSCORE', 'perfload:alive', mac)[0], '', 'no longer alive');
});

test('--redis-prefix and --history-len: keys under the prefix, history capped', async () => {
  const app5 = await startAppliance({ workers: 1, redisUrl: redis.url,
    args: ['--redis-prefix', 'cap5:', '--history-len', '5'] });
  const agent = await agentFrom(app5, '127.0.0.1');
  const mac = uniqueMac('cap');
  for (let i = 0; i < 8; i++) await agent.timeout(3000).emitWithAck('perfData', makeSample(mac, { cpuLoad: i }));
  await waitFor(() => rcli(redis.port, 'HGET', `cap5:machine:${mac}`, 'sample')[0].includes('"cpuLoad":7'), 3000, 'state');
  // Trimmed on a machine's first sample and then every 16 (REDIS_STATE_TRIM_EVERY):
  // never more than 5 + 15 entries, the newest first.
  assert.ok(Number(rcli(redis.port, 'LLEN', `cap5:history:${mac}`)[0]) <= 5 + 15);
  assert.deepEqual(rcli(redis.port, 'LRANGE', `cap5:history:${mac}`, '0', '4').map((l) => JSON.parse(l).cpuLoad),
    [7, 6, 5, 4, 3]);
  for (let i = 8; i < 30; i++) await agent.timeout(3000).emitWithAck('perfData', makeSample(mac, { cpuLoad: i }));
  await waitFor(() => rcli(redis.port, 'LINDEX', `cap5:history:${mac}`, '0')[0].includes('"cpuLoad":29'), 3000, 'history');
  assert.ok(Number(rcli(redis.port, 'LLEN', `cap5:history:${mac}`)[0]) <= 5 + 15, 'trimmed again');
  assert.ok(rcli(redis.port, 'SMEMBERS', 'cap5:machines').includes(mac));
  assert.ok(!rcli(redis.port, 'SMEMBERS', 'perfload:machines').includes(mac), 'not under the default prefix');

  // The list is trimmed only every few samples, so it may be longer than
  // --history-len for a while; the HTTP API still returns at most 5, the newest.
  const base = Date.now();
  for (let i = 1; i <= 10; i++) rcli(redis.port, 'LPUSH', `cap5:history:${mac}`, JSON.stringify({ ts: base + i * 1000, cpuLoad: 100 + i }));
  const r = await api(app5, `/api/machines/${encodeURIComponent(mac)}/history?since=${base - 60000}&until=${base + 11000}`);
  assert.equal(r.status, 200);
  assert.equal(r.json.source, 'redis');
  assert.deepEqual(r.json.points.map((p) => p.cpuLoad), [106, 107, 108, 109, 110]);
  assert.ok(Number(rcli(redis.port, 'LLEN', `cap5:history:${mac}`)[0]) > 5, 'the list itself is longer');
  agent.close();
  await app5.stop();
});

test('after FLUSHALL the next samples write the machine set and firstSeen again', async () => {
  const r3 = await startRedis();
  const app3 = await startAppliance({ workers: 1, redisUrl: r3.url });
  await waitFor(() => allRedisUp(app3), 5000, 'on Redis');
  const agent = await agentFrom(app3, '127.0.0.1');
  const mac = uniqueMac('flush');
  const timer = setInterval(() => agent.emit('perfData', makeSample(mac)), 200);
  try {
    const whole = () => rcli(r3.port, 'SISMEMBER', 'perfload:machines', mac)[0] === '1' &&
      rcli(r3.port, 'HEXISTS', `perfload:machine:${mac}`, 'firstSeen')[0] === '1';
    await waitFor(whole, 3000, 'state written');
    const flushedAt = Date.now();
    rcli(r3.port, 'FLUSHALL');
    // An answered sample a second notices the missing hash; the machine's
    // next sample then re-sends everything.
    await waitFor(whole, 5000, 'machine set and firstSeen back');
    assert.ok(Number(rcli(r3.port, 'HGET', `perfload:machine:${mac}`, 'firstSeen')[0]) >= flushedAt);
    assert.equal(rcli(r3.port, 'ZSCORE', 'perfload:alive', mac)[0] !== '', true);
  } finally {
    clearInterval(timer);
  }
  agent.close();
  await app3.stop();
});

test('a Redis URL with password and db: AUTH and SELECT; a wrong password is logged and retried', async () => {
  const port = await freePort();
  const pw = 'pw-' + Math.random().toString(16).slice(2);
  startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--requirepass', pw, '--dir', tmpdir('perfload-redis-auth-')]);
  await waitFor(() => { try { return rcli(port, '-a', pw, '--no-auth-warning', 'PING')[0] === 'PONG'; } catch { return false; } },
    5000, 'redis with a password');
  const good = await startAppliance({ workers: 1, redisUrl: `redis://:${pw}@127.0.0.1:${port}/3` });
  const agent = await agentFrom(good, '127.0.0.1');
  const mac = uniqueMac('auth');
  await agent.timeout(3000).emitWithAck('perfData', makeSample(mac));
  const inDb3 = () => rcli(port, '-a', pw, '--no-auth-warning', '-n', '3', 'SMEMBERS', 'perfload:machines');
  await waitFor(() => inDb3().includes(mac), 3000, 'the machine in db 3');
  assert.ok(!rcli(port, '-a', pw, '--no-auth-warning', '-n', '0', 'SMEMBERS', 'perfload:machines').includes(mac));
  assert.doesNotMatch(good.proc.output(), new RegExp(pw), 'the password is never logged');
  agent.close();

  const bad = await startAppliance({ workers: 1, redisUrl: `redis://:wrong-${pw}@127.0.0.1:${port}` });
  await waitFor(() => /AUTH refused/.test(bad.proc.output()), 5000, 'the refusal in the log');
  // Still serving its own clients.
  const ui = await uiFrom(bad, '127.0.0.1');
  const a2 = await agentFrom(bad, '127.0.0.1');
  a2.emit('perfData', makeSample(mac));
  await waitFor(() => dataFor(ui, mac).length === 1, 3000, 'local relay with Redis refusing');
  await sleep(2500);
  const refusals = bad.proc.output().split('\n').filter((l) => /AUTH refused/.test(l)).length;
  assert.ok(refusals <= 2, `logged once per link, not per retry (${refusals})`);
  assert.equal(bad.proc.exitCode, null);
  for (const s of [ui, a2]) s.close();
  await bad.stop();
  await good.stop();
});

test('a frozen redis-server (SIGSTOP): links dropped by the watchdog, local relay goes on, all resumes after SIGCONT', async () => {
  const r2 = await startRedis();
  const app2 = await startAppliance({ workers: 1, redisUrl: r2.url });
  const ui = await uiFrom(app2, '127.0.0.1');
  const agent = await agentFrom(app2, '127.0.0.1');
  const mac = uniqueMac('frozen');
  let seq = 0;
  const timer = setInterval(() => agent.emit('perfData', makeSample(mac, { seq: ++seq })), 100);
  try {
    await waitFor(() => dataFor(ui, mac).length >= 3, 3000, 'samples before the freeze');
    r2.proc.kill('SIGSTOP');
    const frozenAt = Date.now();
    await waitFor(() => /redis: lost .*no reply for 5 s/.test(app2.proc.output()), 9000, 'the watchdog');
    assert.ok(Date.now() - frozenAt >= 4500, 'not before 5 s without a reply');
    const n = dataFor(ui, mac).length;
    await waitFor(() => dataFor(ui, mac).length >= n + 5, 3000, 'local relay while Redis is frozen');
    r2.proc.kill('SIGCONT');
    const thawedAt = Date.now();
    await waitFor(() => {
      const h = rcli(r2.port, 'HGET', `perfload:machine:${mac}`, 'lastSeen')[0];
      return h && Number(h) > thawedAt;
    }, 8000, 'state written again after SIGCONT');
    assert.equal(app2.proc.exitCode, null);
  } finally {
    clearInterval(timer);
    try { r2.proc.kill('SIGCONT'); } catch {}
  }
  // Samples never arrived twice at the local UI.
  const seqs = dataFor(ui, mac).map((d) => d.seq);
  assert.equal(new Set(seqs).size, seqs.length, 'no duplicates');
  agent.close();
  ui.close();
  await app2.stop();
});

test('a worker subscribes only while it has dashboards, and a new dashboard misses nothing sent after its ack', async () => {
  const prefix = `sub${process.pid}:`;
  const channel = `${prefix}ui`;
  const numsub = () => Number(rcli(redis.port, 'PUBSUB', 'NUMSUB', channel)[1]);
  const app = await startAppliance({ workers: 2, redisUrl: redis.url,
    args: ['--redis-prefix', prefix, '--unsubscribe-after', '300'] });
  await waitFor(() => allRedisUp(app), 5000, 'both workers on Redis');
  // Same routing as the shared cluster: 2 workers, same hash.
  const uiIp = ipOn(0, 2), agentIp = ipOn(1, 2);
  assert.equal(numsub(), 0, 'no dashboards, no subscriber');

  // An agent on worker 1 sends every 20 ms throughout.
  const agent = await agentFrom(app, agentIp);
  const mac = uniqueMac('ondemand');
  let seq = 0;
  const timer = setInterval(() => agent.emit('perfData', makeSample(mac, { seq: ++seq })), 20);
  try {
    await waitFor(() => seq >= 10, 2000, 'agent sending');
    const ui = await uiFrom(app, uiIp);
    const sentAtAck = seq;
    assert.equal(numsub(), 1, 'the dashboard\'s worker subscribed, the other did not');
    await sleep(1000);
    const last = seq;
    await waitFor(() => dataFor(ui, mac).some((d) => d.seq >= last), 3000, 'samples after the ack');
    const got = new Set(dataFor(ui, mac).map((d) => d.seq));
    const missing = [];
    for (let k = sentAtAck + 1; k <= last; k++) if (!got.has(k)) missing.push(k);
    assert.deepEqual(missing, [], 'every sample sent after the ack reached the dashboard');

    // The last dashboard leaves: the worker unsubscribes after --unsubscribe-after.
    ui.close();
    await waitFor(() => numsub() === 0, 3000, 'unsubscribed once the dashboard left');
    // And subscribes again for the next one, which gets live samples.
    const ui2 = await uiFrom(app, uiIp);
    assert.equal(numsub(), 1);
    const from = seq;
    await waitFor(() => dataFor(ui2, mac).some((d) => d.seq > from + 5), 3000, 'live samples again');
    ui2.close();
  } finally {
    clearInterval(timer);
    agent.close();
    await app.stop();
  }
});

test('a dashboard gets a snapshot far larger than --send-queue-max, and the bound holds again after it', async () => {
  const prefix = `big${process.pid}:`;
  const app = await startAppliance({ workers: 1, redisUrl: redis.url,
    args: ['--redis-prefix', prefix, '--send-queue-max', '16384', '--max-msgs-per-sec', '0'] });
  await waitFor(() => allRedisUp(app), 5000, 'worker on Redis');
  // 1,500 machines (~300 KB of samples) reported through one socket.
  const agent = await agentFrom(app, '127.0.0.1');
  const macs = [];
  for (let i = 0; i < 1500; i++) {
    const mac = `${prefix.replace(':', '')}-m${i}`;
    macs.push(mac);
    agent.emit('perfData', makeSample(mac, { cpuLoad: i % 100 }));
    if (i % 100 === 99) await sleep(20);
  }
  await waitFor(() => Number(rcli(redis.port, 'SCARD', `${prefix}machines`)[0]) === 1500, 10000,
    'every machine in Redis');
  const ui = await uiFrom(app, '127.0.0.1');
  await waitFor(() => new Set(ui.received.map((r) => r.data.macA)).size >= 1500, 10000, 'the whole snapshot');
  assert.ok(ui.connected, 'not dropped as a slow reader');
  const seen = new Set(ui.received.map((r) => r.data.macA));
  assert.deepEqual(macs.filter((m) => !seen.has(m)), []);
  // Live data still flows to it afterwards.
  const live = `${prefix.replace(':', '')}-live`;
  agent.emit('perfData', makeSample(live, { cpuLoad: 42 }));
  await waitFor(() => dataFor(ui, live).length === 1, 3000, 'live sample after the snapshot');
  ui.close();
  agent.close();
  await app.stop();
});
