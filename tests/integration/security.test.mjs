// Security (issue 11, "keys and access" and "input validation"): generated
// key files, TLS on both ports with the real socket.io-client and the real
// perfload-agent, the agent network allow-list, the per-address connection
// cap, the per-socket message-rate cap, deep and oversized JSON, bad query
// strings, and garbage planted in Redis. docs/security.md describes each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bin, cleanup, client, makeSample, onceEvent, sleep, startAppliance, startProcess, startRedis,
  tmpdir, waitFor } from './harness.mjs';
import { putMachine, redisCli } from './lib/fs.mjs';
import { rawGet } from './lib/http.mjs';
import { auth, clientFrom, httpsGet, metric, selfSignedCert, startBare } from './lib/security.mjs';

let redis;
before(async () => { redis = await startRedis(); });
after(cleanup);

const ok = { ok: true };
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Nested objects {"a":{"a":...}} n levels deep. */
function nested(n) {
  let v = 1;
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
}

test('keys: generated on first start (mode 0600, path printed, key never printed) and reused on restart', async () => {
  const a = await startBare({ args: ['--redis', redis.url] });
  const agentFile = path.join(a.stateDir, 'agent.key');
  const uiFile = path.join(a.stateDir, 'ui.key');
  const out = a.proc.output();
  assert.match(out, new RegExp(`generated a new agent key in ${escapeRe(agentFile)}`));
  assert.match(out, new RegExp(`generated a new UI key in ${escapeRe(uiFile)}`));
  for (const f of [agentFile, uiFile]) assert.equal(fs.statSync(f).mode & 0o777, 0o600, f);
  assert.equal(fs.statSync(a.stateDir).mode & 0o077, 0);
  const agentKey = fs.readFileSync(agentFile, 'utf8').trim();
  const uiKey = fs.readFileSync(uiFile, 'utf8').trim();
  assert.match(agentKey, /^[0-9a-f]{64}$/);
  assert.match(uiKey, /^[0-9a-f]{64}$/);
  assert.notEqual(agentKey, uiKey);
  assert.ok(!out.includes(agentKey) && !out.includes(uiKey), 'a key was printed');

  assert.deepEqual(await auth(await clientFrom(a, '127.0.0.1'), agentKey), ok);
  assert.deepEqual(await auth(await clientFrom(a, '127.0.0.1'), uiKey), ok);
  assert.equal(await auth(await clientFrom(a, '127.0.0.1'), 'not-the-key'), 'disconnected: io server disconnect');
  await a.stop();

  const b = await startBare({ stateDir: a.stateDir, args: ['--redis', redis.url] });
  assert.match(b.proc.output(), new RegExp(`agent key read from ${escapeRe(agentFile)}`));
  assert.doesNotMatch(b.proc.output(), /generated/);
  assert.equal(fs.readFileSync(agentFile, 'utf8').trim(), agentKey);
  assert.deepEqual(await auth(await clientFrom(b, '127.0.0.1'), agentKey), ok);
  await b.stop();
});

test('keys: --ui-key-file is read, PERFLOAD_AGENT_KEY_FILE is generated into when missing', async () => {
  const dir = tmpdir('perfload-keys-');
  const uiFile = path.join(dir, 'ui.secret');
  const agentFile = path.join(dir, 'agent.secret');
  fs.writeFileSync(uiFile, 'ui-secret-from-a-file\n', { mode: 0o600 });
  const a = await startBare({ args: ['--redis', redis.url, '--ui-key-file', uiFile],
    env: { PERFLOAD_AGENT_KEY_FILE: agentFile } });
  assert.match(a.proc.output(), new RegExp(`UI key read from ${escapeRe(uiFile)}`));
  assert.equal(fs.statSync(agentFile).mode & 0o777, 0o600);
  const agentKey = fs.readFileSync(agentFile, 'utf8').trim();
  assert.match(agentKey, /^[0-9a-f]{64}$/);
  assert.deepEqual(await auth(await clientFrom(a, '127.0.0.1'), 'ui-secret-from-a-file'), ok);
  assert.deepEqual(await auth(await clientFrom(a, '127.0.0.1'), agentKey), ok);
  // The HTTP API takes the same key as a bearer token.
  const res = await fetch(`${a.httpUrl}/api/machines`, { headers: { Authorization: 'Bearer ui-secret-from-a-file' } });
  assert.equal(res.status, 200);
  const wrong = await fetch(`${a.httpUrl}/api/machines`, { headers: { Authorization: 'Bearer ui-secret-from-a-filE' } });
  assert.equal(wrong.status, 401);
  await a.stop();
});

test('TLS on both ports: https /healthz, wss and polling with a private CA, the real agent with --ca-file; plain TCP refused', async () => {
  const tls = selfSignedCert();
  const ca = fs.readFileSync(tls.cert);
  const a = await startBare({ tls: { ...tls, ca }, args: ['--redis', redis.url, '--agent-key', 'tls-agent-key',
    '--ui-key', 'tls-ui-key'] });
  assert.match(a.proc.output(), /dashboard and API on https:\/\//);

  const h = await httpsGet(`${a.httpUrl}/healthz`, ca);
  assert.equal(h.status, 200);
  assert.equal(JSON.parse(h.body).status, 'ok');
  const c = await httpsGet(`${a.httpUrl}/api/config`, ca);
  assert.equal(JSON.parse(c.body).socketUrl, `https://127.0.0.1:${a.port}`);

  // Plain HTTP on either port gets no answer.
  for (const port of [a.port, a.httpPort]) {
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) }));
  }
  // A client that does not trust the certificate cannot connect.
  const untrusting = client(a.url, { transports: ['websocket'] });
  await onceEvent(untrusting, 'connect_error');

  const ui = client(a.url, { transports: ['websocket'], ca });
  ui.seen = [];
  ui.on('data', (d) => ui.seen.push(d));
  ui.gone = new Promise((r) => ui.on('disconnect', r));
  await onceEvent(ui, 'connect');
  assert.deepEqual(await auth(ui, 'tls-ui-key'), ok);

  const poller = client(a.url, { transports: ['polling'], ca });
  poller.gone = new Promise((r) => poller.on('disconnect', r));
  await onceEvent(poller, 'connect');
  assert.deepEqual(await auth(poller, 'tls-ui-key'), ok);

  startProcess(bin('perfload-agent'), ['--server', a.url, '--key', 'tls-agent-key', '--id', 'tls-machine',
    '--interval', '1', '--ca-file', tls.cert]);
  await waitFor(() => ui.seen.some((d) => d.macA === 'tls-machine' && d.isActive), 10000, 'a sample over wss');
  await a.stop();
});

test('--agent-networks: the agent key from outside is refused like a wrong key and counted; dashboards are unaffected', async () => {
  const a = await startAppliance({ redisUrl: redis.url, args: ['--agent-networks', '127.0.0.2/32, fd00::/8'] });
  const inside = await clientFrom(a, '127.0.0.2');
  assert.deepEqual(await auth(inside, a.agentKey), ok);
  const outside = await clientFrom(a, '127.0.0.3');
  assert.equal(await auth(outside, a.agentKey), 'disconnected: io server disconnect');
  assert.deepEqual(outside.errorsSeen, []);   // nothing tells it the key was right

  const ui = await clientFrom(a, '127.0.0.3');
  ui.seen = [];
  ui.on('data', (d) => ui.seen.push(d));
  assert.deepEqual(await auth(ui, a.uiKey), ok);
  assert.deepEqual(await inside.timeout(5000).emitWithAck('perfData', makeSample('net-inside')), ok);
  await waitFor(() => ui.seen.some((d) => d.macA === 'net-inside'), 5000, 'the inside agent relayed');
  assert.equal(await metric(a, 'perfload_agents_refused_network_total'), 1);
  await a.stop();
});

test('--max-conns-per-ip: past the cap a new socket gets perfload:error and a DISCONNECT; other addresses and freed slots work', async () => {
  const a = await startAppliance({ redisUrl: redis.url, args: ['--max-conns-per-ip', '3'] });
  const three = [];
  for (let i = 0; i < 3; i++) three.push(await clientFrom(a, '127.0.0.4'));
  for (const s of three) assert.deepEqual(await auth(s, a.agentKey), ok);

  const fourth = await clientFrom(a, '127.0.0.4');
  assert.equal(await fourth.gone, 'io server disconnect');
  assert.match(fourth.errorsSeen[0]?.error || '', /too many connections from 127\.0\.0\.4 \(at most 3 per address\)/);

  const other = await clientFrom(a, '127.0.0.5');
  assert.deepEqual(await auth(other, a.agentKey), ok);
  assert.deepEqual(await three[0].timeout(5000).emitWithAck('perfData', makeSample('cap-1')), ok);

  three[1].close();
  await waitFor(async () => (await metric(a, 'perfload_worker_agents')) === 3, 5000, 'the closed socket to be gone');
  const again = await clientFrom(a, '127.0.0.4');
  assert.deepEqual(await auth(again, a.agentKey), ok);
  assert.equal(await metric(a, 'perfload_conns_refused_ip_cap_total'), 1);
  await a.stop();
});

test('--max-msgs-per-sec: a burst beyond the bucket is dropped with an error, a socket that stays over is disconnected', async () => {
  const a = await startAppliance({ redisUrl: redis.url, args: ['--max-msgs-per-sec', '10', '--max-msgs-burst', '20'] });
  const polite = await clientFrom(a, '127.0.0.6');
  assert.deepEqual(await auth(polite, a.agentKey), ok);
  const flood = await clientFrom(a, '127.0.0.7');
  assert.deepEqual(await auth(flood, a.agentKey), ok);   // one token of 20

  const acks = await Promise.all(Array.from({ length: 60 }, (_, i) =>
    flood.timeout(5000).emitWithAck('perfData', makeSample('flood', { cpuLoad: i }))));
  const passed = acks.filter((r) => r.ok).length;
  const limited = acks.filter((r) => /^rate limit/.test(r.error || '')).length;
  assert.ok(passed >= 19 && passed <= 22, `passed ${passed}`);
  assert.equal(passed + limited, 60);
  assert.equal(flood.errorsSeen.length, 1, 'one perfload:error per one-second window');

  // The polite agent on its own bucket is untouched.
  for (let i = 0; i < 3; i++) assert.deepEqual(await polite.timeout(5000).emitWithAck('perfData', makeSample('polite')), ok);

  // 30 messages/s against 10/s: dropped in every window, disconnected after 5.
  const t0 = Date.now();
  const timer = setInterval(() => flood.emit('perfData', makeSample('flood')), 33);
  const reason = await Promise.race([flood.gone, sleep(10000).then(() => 'still connected')]);
  clearInterval(timer);
  assert.equal(reason, 'io server disconnect');
  assert.ok(Date.now() - t0 >= 3500, `kicked after ${Date.now() - t0} ms`);
  assert.ok(polite.connected);
  assert.equal(await metric(a, 'perfload_rate_limit_disconnects_total'), 1);
  assert.ok(await metric(a, 'perfload_msgs_rate_limited_total') >= limited + 50);
  await a.stop();
});

test('deep and oversized JSON: a sample nested too deeply or too big is refused (socket kept); JSON past the parser limit ends the session', async () => {
  const a = await startAppliance({ redisUrl: redis.url });
  const ag = await clientFrom(a, '127.0.0.8');
  assert.deepEqual(await auth(ag, a.agentKey), ok);

  const deep = await ag.timeout(5000).emitWithAck('perfData', makeSample('deep', { extra: nested(40) }));
  assert.match(deep.error, /perfData rejected: extra field 'extra' nested too deeply/);
  const big = await ag.timeout(5000).emitWithAck('perfData', makeSample('big',
    Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`f${i}`, 'x'.repeat(1000)]))));
  assert.match(big.error, /perfData rejected/);
  const badMac = await ag.timeout(5000).emitWithAck('perfData', makeSample('../../etc'));
  assert.match(badMac.error, /macA/);
  assert.deepEqual(await ag.timeout(5000).emitWithAck('perfData', makeSample('fine')), ok);
  assert.equal(await metric(a, 'perfload_samples_rejected_total'), 3);

  // 1500 levels: cJSON stops at 1000, the packet is malformed, the session ends.
  const before = await metric(a, 'perfload_protocol_errors_total');
  ag.emit('perfData', nested(1500));
  assert.match(await ag.gone, /transport close|parse error|transport error/);
  assert.equal(await metric(a, 'perfload_protocol_errors_total'), before + 1);
  // The worker is fine.
  assert.deepEqual(await auth(await clientFrom(a, '127.0.0.8'), a.agentKey), ok);
  await a.stop();
});

test('HTTP: bad query strings and ids get 400 with a JSON error; unknown paths 404; other methods 405', async () => {
  const a = await startAppliance({ redisUrl: redis.url });
  const bearer = { Authorization: `Bearer ${a.uiKey}` };
  for (const q of ['since=abc', 'until=-5', 'step=1e3', 'since=%205', 'since=%2B5', 'since=0x10',
    'since=99999999999999999999', 'until=253402300800000', 'since=10&until=5']) {
    const res = await fetch(`${a.httpUrl}/api/machines/m1/history?${q}`, { headers: bearer });
    assert.equal(res.status, 400, q);
    assert.match(res.headers.get('content-type'), /application\/json/);
    assert.equal(typeof (await res.json()).error, 'string', q);
  }
  const okRes = await fetch(`${a.httpUrl}/api/machines/m1/history?since=0&until=253402300799999&step=60000`, { headers: bearer });
  assert.equal(okRes.status, 200);
  for (const id of ['bad$id', 'a'.repeat(65), '%2e%2e', 'x%00y']) {
    const r = await rawGet(a.httpPort, `/api/machines/${id}`, bearer);
    // The API answers 400/404 in JSON; a traversal attempt never reaches it (403 from the path gate).
    if (r.status === 403) continue;
    assert.ok([400, 404].includes(r.status), `${id}: ${r.status}`);
    assert.equal(typeof JSON.parse(r.body).error, 'string');
  }
  assert.equal((await fetch(`${a.httpUrl}/api/nope`, { headers: bearer })).status, 404);
  assert.equal((await fetch(`${a.httpUrl}/api/machines`, { method: 'DELETE', headers: bearer })).status, 405);
  // Counted every time, logged at most once a second.
  assert.ok(await metric(a, 'perfload_http_rejected_total') >= 11);
  const lines = a.proc.output().split('\n').filter((l) => /^http: (400|403|405) for /.test(l));
  assert.ok(lines.length >= 1 && lines.length <= 3, `${lines.length} log lines`);
  await a.stop();
});

test('garbage planted in Redis is never relayed to dashboards, never crashes the appliance, and is counted', async () => {
  const r2 = await startRedis();
  const a = await startAppliance({ redisUrl: r2.url });
  const ag = await clientFrom(a, '127.0.0.9');
  assert.deepEqual(await auth(ag, a.agentKey), ok);
  assert.deepEqual(await ag.timeout(5000).emitWithAck('perfData', makeSample('good-1')), ok);

  await putMachine(r2, 'evil-1', { sample: '{"macA":"evil-1","cpuLoad":"lots"}', lastSeen: '1', active: '1' });
  await putMachine(r2, 'evil-2', { sample: 'not json at all', lastSeen: 'yesterday', active: '1' });
  await putMachine(r2, 'evil-3', { sample: makeSample('someone-else'), lastSeen: '1', active: '1' });
  await putMachine(r2, 'evil-4', { sample: makeSample('evil-4', { extra: nested(200) }), lastSeen: '1', active: '1' });
  await putMachine(r2, 'evil-5', { sample: makeSample('evil-5', { cpuLoad: 1e9 }), lastSeen: '1', active: '1' });
  // A liveness claim of a machine whose stored sample is garbage.
  await redisCli(r2, 'ZADD', 'perfload:alive', '1', 'evil-1');

  const ui = await clientFrom(a, '127.0.0.10');
  ui.seen = [];
  ui.on('data', (d) => ui.seen.push(d));
  assert.deepEqual(await auth(ui, a.uiKey), ok);
  await redisCli(r2, 'PUBLISH', 'perfload:ui', `0123456789abcdef\n${JSON.stringify({ macA: 'evil-pub', cpuLoad: 500 })}`);
  await redisCli(r2, 'PUBLISH', 'perfload:ui', '0123456789abcdef\n[1,2,3]');
  await redisCli(r2, 'PUBLISH', 'perfload:ui', 'no newline at all');
  await redisCli(r2, 'PUBLISH', 'perfload:ui', `0123456789abcdef\n${JSON.stringify(makeSample('pub-ok'))}`);
  await waitFor(() => ui.seen.some((d) => d.macA === 'pub-ok'), 5000, 'the valid published sample');
  await sleep(1200);   // a liveness sweep or two

  const macs = new Set(ui.seen.map((d) => d.macA));
  assert.ok(macs.has('good-1'), 'the real machine is shown');
  for (const m of macs) assert.doesNotMatch(m, /evil|someone-else/);
  assert.ok(await metric(a, 'perfload_redis_data_rejected_total') >= 7);
  assert.match(a.proc.output(), /ignoring a sample read from Redis/);

  // The API lists the planted ids (they are valid ids) but none of their sample fields.
  const list = await (await fetch(`${a.httpUrl}/api/machines`, { headers: { Authorization: `Bearer ${a.uiKey}` } })).json();
  const byMac = Object.fromEntries(list.machines.map((m) => [m.macA, m]));
  assert.equal(byMac['good-1'].cpuLoad, 12.5);
  for (const m of ['evil-1', 'evil-3', 'evil-5']) assert.equal(byMac[m].cpuLoad, undefined, m);
  assert.equal((await fetch(`${a.httpUrl}/healthz`)).status, 200);
  assert.equal(a.proc.exitCode, null);
  await a.stop();
});
