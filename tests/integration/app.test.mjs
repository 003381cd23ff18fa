// PerfLoad's application protocol (issue 2 item 5), one worker, its own
// redis-server: what agents and dashboards see, told as user stories. Fake
// agents are the real socket.io-client emitting samples.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startAppliance, freePort, connectUi, connectFakeAgent, makeSample, client,
  onceEvent, waitFor, sleep, cleanup } from './harness.mjs';

let redis;
let app;
before(async () => {
  redis = await startRedis();
  app = await startAppliance({ workers: 1, redisUrl: redis.url });
});
after(cleanup);

let macSeq = 0;
const uniqueMac = (tag) => `app-${tag}-${process.pid}-${++macSeq}`;
const dataFor = (ui, mac) => ui.received.filter((r) => r.data && r.data.macA === mac).map((r) => r.data);

/** Waits until the UI has been sent the machines known at its clientAuth
 * (it is in room 'ui' after that), by sending a probe sample and seeing it. */
async function uiReady(ui, appliance = app) {
  const probe = await connectFakeAgent(appliance);
  const mac = uniqueMac('probe');
  probe.emit('perfData', makeSample(mac));
  await waitFor(() => dataFor(ui, mac).length > 0, 5000, 'the UI to be in room ui');
  probe.close();
}

/** Collects `perfload:error` events of a socket. */
function recordErrors(s) {
  s.errorsSeen = [];
  s.on('perfload:error', (e) => s.errorsSeen.push(e));
  return s;
}

describe('agent data reaches a dashboard over every transport', () => {
  const transports = {
    'websocket only': { transports: ['websocket'] },
    'polling only': { transports: ['polling'] },
    'default (polling, then upgrade)': {},
  };
  for (const [name, opts] of Object.entries(transports)) {
    test(`${name}: initPerfData and perfData are relayed to the UI as data`, async () => {
      const ui = await connectUi(app, opts);
      await uiReady(ui);
      const agent = await connectFakeAgent(app, opts);
      const mac = uniqueMac('tr');
      agent.emit('initPerfData', makeSample(mac, { cpuLoad: 1 }));
      for (let i = 2; i <= 5; i++) agent.emit('perfData', makeSample(mac, { cpuLoad: i }));
      await waitFor(() => dataFor(ui, mac).length >= 5, 5000, `5 samples of ${mac}`);
      const got = dataFor(ui, mac);
      assert.deepEqual(got.map((d) => d.cpuLoad), [1, 2, 3, 4, 5], 'every sample, in order, once');
      assert.deepEqual(got[4], makeSample(mac, { cpuLoad: 5 }), 'the sample as the agent sent it');
      if (!opts.transports) {
        await waitFor(() => agent.io.engine.transport.name === 'websocket' &&
          ui.io.engine.transport.name === 'websocket', 5000, 'both clients to upgrade');
        agent.emit('perfData', makeSample(mac, { cpuLoad: 6 }));
        await waitFor(() => dataFor(ui, mac).length >= 6, 5000, 'a sample after the upgrade');
      }
      agent.close();
      ui.close();
    });
  }
});

/** The reason of the next 'disconnect' (socket.io-client 4 adds a details argument). */
async function disconnectReason(s) {
  const r = await onceEvent(s, 'disconnect', 5000);
  return Array.isArray(r) ? r[0] : r;
}

test('a wrong key is disconnected with "io server disconnect" and does not reconnect', async () => {
  const s = client(app.url, { reconnection: true, reconnectionDelay: 50 });
  let attempts = 0;
  s.io.on('reconnect_attempt', () => attempts++);
  await onceEvent(s, 'connect');
  const gone = disconnectReason(s);
  s.emit('clientAuth', 'not-the-key');
  assert.equal(await gone, 'io server disconnect');
  await sleep(500);
  assert.equal(attempts, 0, 'the client does not retry');
  assert.equal(s.connected, false);
  // The right key on a fresh connection still works.
  const ok = await connectFakeAgent(app);
  const ack = await ok.timeout(3000).emitWithAck('perfData', makeSample(uniqueMac('after-wrong')));
  assert.deepEqual(ack, { ok: true });
  ok.close();
});

test('a non-string key is a wrong key too', async () => {
  const s = client(app.url);
  await onceEvent(s, 'connect');
  const gone = disconnectReason(s);
  s.emit('clientAuth', { key: app.agentKey });
  assert.equal(await gone, 'io server disconnect');
});

test('events from a socket that has not authenticated are refused and the socket is kept', async () => {
  const ui = await connectUi(app);
  await uiReady(ui);
  const s = recordErrors(client(app.url));
  await onceEvent(s, 'connect');
  const mac = uniqueMac('unauth');
  const ack = await s.timeout(3000).emitWithAck('perfData', makeSample(mac));
  assert.match(ack.error, /not authenticated/);
  s.emit('initPerfData', makeSample(mac));
  await waitFor(() => s.errorsSeen.length >= 2, 3000, 'perfload:error events');
  assert.equal(s.errorsSeen[1].event, 'initPerfData');
  assert.match(s.errorsSeen[1].error, /clientAuth/);
  await sleep(200);
  assert.equal(dataFor(ui, mac).length, 0, 'nothing relayed');
  assert.ok(s.connected, 'connection kept');
  // Authenticating afterwards works on the same connection.
  s.emit('clientAuth', app.agentKey);
  s.emit('perfData', makeSample(mac));
  await waitFor(() => dataFor(ui, mac).length === 1, 3000, 'the sample after authenticating');
  s.close();
  ui.close();
});

test('a dashboard cannot send samples', async () => {
  const ui = recordErrors(await connectUi(app));
  await uiReady(ui);
  const mac = uniqueMac('from-ui');
  const ack = await ui.timeout(3000).emitWithAck('perfData', makeSample(mac));
  assert.match(ack.error, /agent/);
  await sleep(200);
  assert.equal(dataFor(ui, mac).length, 0);
  assert.ok(ui.connected);
  ui.close();
});

describe('invalid samples are rejected with a clear error; the agent stays connected', () => {
  const cases = [
    ['macA ../x', (m) => makeSample('../x'), /macA/],
    ['macA ..', (m) => makeSample('..'), /macA/],
    ['macA .', (m) => makeSample('.'), /macA/],
    ['macA a/b', (m) => makeSample('a/b'), /macA/],
    ['macA with a control character', (m) => makeSample('a\u0001b'), /macA/],
    ['macA with NUL', (m) => makeSample('a\u0000b'), /NUL|macA/],
    ['macA of 65 characters', (m) => makeSample('x'.repeat(65)), /macA/],
    ['macA missing', (m) => { const s = makeSample(m); delete s.macA; return s; }, /macA missing/],
    ['macA not a string', (m) => makeSample(42), /macA/],
    ['cpuLoad as a string', (m) => makeSample(m, { cpuLoad: '12' }), /cpuLoad must be a number/],
    ['cpuLoad above 100', (m) => makeSample(m, { cpuLoad: 250 }), /cpuLoad out of range/],
    ['memUsage above 1', (m) => makeSample(m, { memUsage: 3 }), /memUsage out of range/],
    ['negative freeMem', (m) => makeSample(m, { freeMem: -1 }), /freeMem out of range/],
    ['numCores 0', (m) => makeSample(m, { numCores: 0 }), /numCores/],
    ['osType as a number', (m) => makeSample(m, { osType: 7 }), /osType must be a string/],
    ['a string as the sample', (m) => 'hello', /object/],
    ['no argument', null, /missing/],
    ['an extra field nested too deeply', (m) => makeSample(m, { x: [[[[[[1]]]]]] }), /nested/],
    ['a sample over 64 KB', (m) => makeSample(m, { blob: Array.from({ length: 100 }, () => 'x'.repeat(1000)) }),
      /too large/],
  ];
  let agent;
  let ui;
  before(async () => {
    ui = await connectUi(app);
    await uiReady(ui);
    agent = recordErrors(await connectFakeAgent(app));
  });
  after(() => { agent.close(); ui.close(); });

  for (const [name, make, why] of cases) {
    test(name, async () => {
      const mac = uniqueMac('bad');
      const before = agent.errorsSeen.length;
      const ack = make === null
        ? await agent.timeout(3000).emitWithAck('perfData')
        : await agent.timeout(3000).emitWithAck('perfData', make(mac));
      assert.ok(ack && typeof ack.error === 'string', 'ack carries an error');
      assert.match(ack.error, /^perfData rejected: /);
      assert.match(ack.error, why);
      await waitFor(() => agent.errorsSeen.length > before, 3000, 'perfload:error');
      assert.equal(agent.errorsSeen.at(-1).event, 'perfData');
      assert.equal(agent.errorsSeen.at(-1).error, ack.error);
      assert.ok(agent.connected, 'still connected');
      // Nothing of it reached the dashboard; a valid sample still does.
      agent.emit('perfData', makeSample(mac, { cpuLoad: 77 }));
      await waitFor(() => dataFor(ui, mac).length === 1, 3000, 'the following valid sample');
      assert.equal(dataFor(ui, mac)[0].cpuLoad, 77);
    });
  }

  test('without an ack the error still arrives as perfload:error', async () => {
    const before = agent.errorsSeen.length;
    agent.emit('perfData', makeSample('../etc'));
    await waitFor(() => agent.errorsSeen.length > before, 3000, 'perfload:error');
    assert.match(agent.errorsSeen.at(-1).error, /macA/);
    assert.ok(agent.connected);
  });
});

test("the original client's memUseage (sic) is accepted and memUsage filled from it", async () => {
  const ui = await connectUi(app);
  await uiReady(ui);
  const agent = await connectFakeAgent(app);
  const mac = uniqueMac('sic');
  const s = makeSample(mac, { memUseage: 0.42 });
  delete s.memUsage;
  const ack = await agent.timeout(3000).emitWithAck('perfData', s);
  assert.deepEqual(ack, { ok: true });
  await waitFor(() => dataFor(ui, mac).length === 1, 3000, 'the sample');
  const got = dataFor(ui, mac)[0];
  assert.equal(got.memUsage, 0.42);
  assert.equal(got.memUseage, 0.42, 'kept for old dashboards');
  // Derived from usedMem/totalMem when neither is sent.
  const t = makeSample(mac, { usedMem: 2e9, totalMem: 8e9 });
  delete t.memUsage;
  agent.emit('perfData', t);
  await waitFor(() => dataFor(ui, mac).length === 2, 3000, 'the second sample');
  assert.equal(dataFor(ui, mac)[1].memUsage, 0.25);
  agent.close();
  ui.close();
});

test('a dashboard that authenticates is sent every known machine, with isActive as it is now', async () => {
  const live = await connectFakeAgent(app);
  const gone = await connectFakeAgent(app);
  const macLive = uniqueMac('known-live');
  const macGone = uniqueMac('known-gone');
  await live.timeout(3000).emitWithAck('initPerfData', makeSample(macLive, { cpuLoad: 33 }));
  await gone.timeout(3000).emitWithAck('initPerfData', makeSample(macGone, { cpuLoad: 44 }));
  gone.close();
  await sleep(500);
  const ui = await connectUi(app);
  await waitFor(() => dataFor(ui, macLive).length && dataFor(ui, macGone).length, 5000,
    'both machines on clientAuth');
  assert.equal(dataFor(ui, macLive)[0].cpuLoad, 33);
  assert.equal(dataFor(ui, macLive)[0].isActive, true);
  assert.equal(dataFor(ui, macGone)[0].cpuLoad, 44);
  assert.equal(dataFor(ui, macGone)[0].isActive, false);
  assert.equal(dataFor(ui, macLive).length, 1, 'once each');
  live.close();
  ui.close();
});

test('an agent that leaves: its last sample with isActive:false reaches the UI within 3 s', async () => {
  const ui = await connectUi(app);
  await uiReady(ui);
  const agent = await connectFakeAgent(app);
  const mac = uniqueMac('leave');
  agent.emit('perfData', makeSample(mac, { cpuLoad: 61 }));
  await waitFor(() => dataFor(ui, mac).length === 1, 3000, 'the sample');
  const t0 = Date.now();
  agent.close();
  await waitFor(() => dataFor(ui, mac).some((d) => d.isActive === false), 3000, 'the offline data');
  const off = dataFor(ui, mac).filter((d) => d.isActive === false);
  assert.equal(off.length, 1, 'exactly one offline');
  assert.equal(off[0].cpuLoad, 61, 'the last sample');
  assert.ok(Date.now() - t0 < 3000);
  await sleep(800);   // a sweep or two later: still exactly one
  assert.equal(dataFor(ui, mac).filter((d) => d.isActive === false).length, 1);
  ui.close();
});

test('without Redis the worker still relays, remembers machines, and announces leaves', async () => {
  const dead = `redis://127.0.0.1:${await freePort()}`;
  const solo = await startAppliance({ workers: 1, redisUrl: dead });
  const ui = await connectUi(solo);
  await uiReady(ui, solo);
  const agent = await connectFakeAgent(solo);
  const mac = uniqueMac('noredis');
  agent.emit('initPerfData', makeSample(mac, { cpuLoad: 5 }));
  await waitFor(() => dataFor(ui, mac).length === 1, 3000, 'relay without Redis');
  const late = await connectUi(solo);
  await waitFor(() => dataFor(late, mac).length === 1, 3000, 'known machines from the worker itself');
  agent.close();
  await waitFor(() => dataFor(ui, mac).some((d) => d.isActive === false), 3000, 'offline without Redis');
  ui.close();
  late.close();
  assert.match(solo.proc.output(), /redis/i, 'the outage is logged');
  const lines = solo.proc.output().split('\n').filter((l) => /cannot reach/.test(l));
  assert.ok(lines.length <= 2, `one line per link, not per retry: ${lines.length}`);
  await solo.stop();
});

test('--open-dashboard: a dashboard needs no key, agents still do', async () => {
  const open = await startAppliance({ workers: 1, redisUrl: redis.url, args: ['--open-dashboard'] });
  const ui = client(open.url);
  ui.received = [];
  ui.on('data', (d) => ui.received.push({ at: Date.now(), data: d }));
  await onceEvent(ui, 'connect');
  assert.deepEqual(await ui.timeout(3000).emitWithAck('clientAuth', ''), { ok: true });
  const agent = await connectFakeAgent(open);
  const mac = uniqueMac('open');
  agent.emit('perfData', makeSample(mac));
  await waitFor(() => dataFor(ui, mac).length === 1, 3000, 'data for the keyless dashboard');
  // A wrong agent key does not make an agent: its samples are refused.
  const notAgent = client(open.url);
  await onceEvent(notAgent, 'connect');
  await notAgent.timeout(3000).emitWithAck('clientAuth', 'guess');
  const ack = await notAgent.timeout(3000).emitWithAck('perfData', makeSample(uniqueMac('open-bad')));
  assert.match(ack.error, /agent/);
  for (const s of [ui, agent, notAgent]) s.close();
  await open.stop();
});

/** Sum of a counter over the workers, from /metrics. */
async function counter(appliance, name) {
  const text = await (await fetch(`${appliance.httpUrl}/metrics`)).text();
  const re = new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'gm');
  let sum = 0;
  let found = false;
  for (const m of text.matchAll(re)) { sum += Number(m[1]); found = true; }
  assert.ok(found, `${name} in /metrics`);
  return sum;
}

test('accepted, rejected, unauthenticated and wrong-key events are counted in /metrics', async () => {
  const names = ['perfload_samples_in_total', 'perfload_samples_rejected_total', 'perfload_auth_failures_total',
    'perfload_protocol_errors_total'];
  const before = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await counter(app, n)])));
  const agent = await connectFakeAgent(app);
  await agent.timeout(3000).emitWithAck('perfData', makeSample(uniqueMac('count')));
  await agent.timeout(3000).emitWithAck('perfData', makeSample('../bad'));
  const anon = client(app.url);
  await onceEvent(anon, 'connect');
  await anon.timeout(3000).emitWithAck('perfData', makeSample(uniqueMac('count-anon')));
  await anon.timeout(3000).emitWithAck('somethingElse', 1);
  const wrong = client(app.url);
  await onceEvent(wrong, 'connect');
  const gone = onceEvent(wrong, 'disconnect');
  wrong.emit('clientAuth', 'nope');
  await gone;
  await waitFor(async () => (await counter(app, 'perfload_auth_failures_total')) >= before.perfload_auth_failures_total + 1,
    3000, 'auth failure counted');
  assert.equal(await counter(app, 'perfload_samples_in_total'), before.perfload_samples_in_total + 1);
  assert.equal(await counter(app, 'perfload_samples_rejected_total'), before.perfload_samples_rejected_total + 2,
    'the invalid sample and the unauthenticated one');
  assert.ok(await counter(app, 'perfload_protocol_errors_total') >= before.perfload_protocol_errors_total + 1,
    'the unauthenticated non-sample event');
  agent.close();
  anon.close();
});
