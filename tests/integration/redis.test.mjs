// Redis (issue 4): fan-out across workers and appliances, live state,
// liveness claimed once cluster-wide, and Redis outages. Real
// perfload-appliance processes (one with 2 workers, one with 1) sharing one
// real redis-server; clients leave from 127.0.0.x source addresses so the
// master routes them to chosen workers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ROOT, startRedis, startAppliance, startProcess, cleanup, waitFor, sleep, client,
  makeSample } from './harness.mjs';
import { loopbackRange, probeWorker, pidAlive } from './lib/cluster.mjs';

let redis;
let cluster;        // 2 workers
let other;          // a second appliance on the same Redis
const ipsBySlot = new Map();   // cluster slot -> [ip...]

before(async () => {
  redis = await startRedis();
  cluster = await startAppliance({ workers: 2, redisUrl: redis.url });
  other = await startAppliance({ workers: 1, redisUrl: redis.url });
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
  agent.close();
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
