// perfload-agent as a user meets it: `--once` tells the truth about this
// machine, a dashboard sees the agent's samples at 1 Hz through the real
// appliance, the agent survives an appliance restart, a wrong key is a
// clear error, and wss:// verifies the server's certificate.
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import * as h from './harness.mjs';
import * as A from './lib/agent.mjs';
import { rssKb } from './lib/agent-footprint.mjs';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

after(h.cleanup);

const AGENT = h.bin('perfload-agent');
const FIXTURE_ROOT = path.join(h.ROOT, 'tests/fixtures/proc/container');
const uniqueId = (tag) => `agent-test-${tag}-${Math.random().toString(16).slice(2, 10)}`;
const samplesOf = (ui, mac) => ui.received.filter((r) => r.data && r.data.macA === mac);

describe('perfload-agent --once', () => {
  test('prints one valid sample that agrees with free -b, nproc and /proc/uptime', () => {
    const before = A.procUptime();
    const r = A.runAgentSync(AGENT, ['--once']);
    const after_ = A.procUptime();
    const free = A.freeBytes();
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(A.sampleProblems(s), []);
    // MemTotal does not move; MemAvailable does, a little, between two commands
    assert.equal(s.totalMem, free.total);
    assert.ok(Math.abs(s.freeMem - free.available) <= Math.max(64 * 2 ** 20, 0.02 * free.total),
      `freeMem ${s.freeMem} vs free -b available ${free.available}`);
    assert.equal(s.numCores, os.cpus().length);
    assert.ok(s.numCores >= A.nproc(), `numCores ${s.numCores} < nproc ${A.nproc()}`);
    assert.equal(s.cpuLoadPerCore.length, s.numCores);
    assert.ok(s.upTime >= Math.floor(before) && s.upTime <= Math.ceil(after_), `upTime ${s.upTime} not in [${before}, ${after_}]`);
    assert.equal(s.kernel, os.release());
    assert.ok(s.macA.length > 0);
  });

  test('--proc-root reads another tree: a container without a MAC uses its machine-id', () => {
    const r = A.runAgentSync(AGENT, ['--once', '--proc-root', FIXTURE_ROOT]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(A.sampleProblems(s), []);
    assert.equal(s.macA, 'c0ffee00c0ffee00c0ffee00c0ffee00');      // etc/machine-id: lo only
    assert.equal(s.cpuModel, 'ARM Cortex-A72');                      // cpuinfo without model name/MHz
    assert.equal(s.cpuSpeed, 1500);                                  // from cpufreq (kHz)
    assert.equal(s.numCores, 4);
    assert.equal(s.totalMem, 3921160 * 1024);
    assert.equal(s.freeMem, (523412 + 102400 + 1310720) * 1024);     // no MemAvailable: fallback
    assert.equal(s.memUsage, 0.51);
    assert.equal(s.upTime, 4242);
    assert.deepEqual(s.loadAvg, [0.25, 0.5, 1]);
    assert.equal(s.kernel, '6.1.0-fixture');
    assert.deepEqual(s.disks, []);                                   // overlay root only
    assert.deepEqual(s.net, []);                                     // lo only
  });

  test('--id overrides the machine id; a bad id is a usage error', () => {
    const ok = A.runAgentSync(AGENT, ['--once', '--id', 'web-01.example']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).macA, 'web-01.example');
    for (const bad of ['..', 'a/b', 'x'.repeat(65), 'sp ace']) {
      const r = A.runAgentSync(AGENT, ['--once', '--id', bad]);
      assert.equal(r.code, 2, `--id ${bad}`);
      assert.match(r.stderr, /--id/);
    }
  });
});

describe('perfload-agent command line', () => {
  test('--help and --version exit 0; a missing key and unknown flags exit 2 with a reason', () => {
    const help = A.runAgentSync(AGENT, ['--help']);
    assert.equal(help.code, 0);
    for (const flag of ['--server', '--key', '--key-file', '--interval', '--id', '--once', '--proc-root', '--insecure'])
      assert.ok(help.stdout.includes(flag), `--help lacks ${flag}`);
    assert.match(A.runAgentSync(AGENT, ['--version']).stdout, /^perfload-agent \d+\.\d+\.\d+/);
    const nokey = A.runAgentSync(AGENT, [], { PERFLOAD_AGENT_KEY: '' });
    assert.equal(nokey.code, 2);
    assert.match(nokey.stderr, /no agent key/);
    assert.equal(A.runAgentSync(AGENT, ['--key', 'k', '--bogus']).code, 2);
    assert.equal(A.runAgentSync(AGENT, ['--key', 'k', '--interval', '0']).code, 2);
    assert.equal(A.runAgentSync(AGENT, ['--key', 'k', '--server', 'ftp://x']).code, 2);
    const missing = A.runAgentSync(AGENT, ['--key-file', '/nonexistent/key']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nonexistent/);
  });

  test('an unreadable --proc-root is a runtime error (exit 1) naming the file', () => {
    const r = A.runAgentSync(AGENT, ['--once', '--proc-root', '/nonexistent-root']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\/nonexistent-root\/proc\/stat/);
  });

  test('no server: retries with exponential backoff and jitter, never exits', async () => {
    const port = await h.freePort();                   // nothing listens there
    const agent = h.startProcess(AGENT, ['--server', `http://127.0.0.1:${port}`, '--key', 'k', '--id', uniqueId('nosrv')]);
    await h.waitFor(() => (agent.output().match(/reconnecting in/g) || []).length >= 4, 8000, 'four retries');
    const delays = [...agent.output().matchAll(/reconnecting in ([\d.]+) s/g)].map((m) => Number(m[1]));
    // attempt n waits min(30, 0.5 * 2^n) * [0.5, 1): printed with one decimal
    delays.slice(0, 4).forEach((d, n) => {
      const step = 0.5 * 2 ** n;
      assert.ok(d >= step / 2 - 0.05 && d <= step + 0.05, `retry ${n}: ${d} s not in [${step / 2}, ${step}]`);
    });
    assert.equal(agent.exitCode, null);
    const { code } = await h.stopProcess(agent);
    assert.equal(code, 0);
  });
});

describe('perfload-agent against the appliance', () => {
  test('a dashboard receives the agent\'s samples at 1 Hz with plausible values', async () => {
    const redis = await h.startRedis();
    const app = await h.startAppliance({ redisUrl: redis.url });
    const ui = await h.connectUi(app);
    const id = uniqueId('hz');
    const agent = h.startAgent(app, { id });
    await h.waitFor(() => samplesOf(ui, id).length >= 6, 10000, 'six samples');
    const got = samplesOf(ui, id);
    for (const { data } of got) assert.deepEqual(A.sampleProblems(data), [], JSON.stringify(data));
    // initPerfData + perfData every second: the gaps between perfData are ~1 s
    const gaps = got.slice(2).map((r, i) => r.at - got[i + 1].at);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    assert.ok(mean > 900 && mean < 1100, `mean gap ${mean} ms (${gaps})`);
    const last = got[got.length - 1].data;
    assert.equal(last.totalMem, A.freeBytes().total);
    assert.equal(last.numCores, os.cpus().length);
    assert.ok(agent.exitCode === null, 'agent still running');
    await h.stopProcess(agent);
    await app.stop();
  });

  test('answers the server\'s pings: with 300 ms heartbeats the session survives', async () => {
    const redis = await h.startRedis();
    const app = await h.startAppliance({ redisUrl: redis.url, args: ['--ping-interval', '300', '--ping-timeout', '300'] });
    const ui = await h.connectUi(app);
    const id = uniqueId('ping');
    const agent = h.startAgent(app, { id, args: ['--verbose'] });
    await h.waitFor(() => samplesOf(ui, id).length >= 1, 5000, 'first sample');
    await h.sleep(3000);                       // ten ping/pong rounds
    assert.match(agent.output(), /pingInterval 300 ms/);
    assert.equal((agent.output().match(/engine\.io open/g) || []).length, 1, 'one session, no reconnects:\n' + agent.output());
    assert.ok(samplesOf(ui, id).filter((r) => r.data.isActive === false).length === 0, 'never shown offline');
    await h.stopProcess(agent);
    await app.stop();
  });

  test('--interval 0.25 keeps a drift-free 4 Hz schedule', async () => {
    const redis = await h.startRedis();
    const app = await h.startAppliance({ redisUrl: redis.url });
    const ui = await h.connectUi(app);
    const id = uniqueId('fast');
    const agent = h.startAgent(app, { id, interval: 0.25 });
    await h.waitFor(() => samplesOf(ui, id).length >= 2, 5000, 'first samples');
    const t0 = Date.now();
    const n0 = samplesOf(ui, id).length;
    await h.sleep(4000);
    const n = samplesOf(ui, id).length - n0;
    // 16 expected in 4 s; sleep(250)-style drift would lose one every few seconds
    assert.ok(n >= 15 && n <= 17, `${n} samples in ${Date.now() - t0} ms`);
    await h.stopProcess(agent);
    await app.stop();
  });

  test('the appliance restarts on the same port: the agent reconnects and the dashboard sees it again', async () => {
    const redis = await h.startRedis();
    const app = await h.startAppliance({ redisUrl: redis.url });
    const id = uniqueId('restart');
    const agent = h.startAgent(app, { id });
    const ui1 = await h.connectUi(app);
    await h.waitFor(() => samplesOf(ui1, id).length >= 1, 5000, 'samples before the restart');
    await app.stop();
    await h.sleep(1500);                                           // the agent backs off meanwhile
    assert.equal(agent.exitCode, null, 'the agent must keep running while the server is away');
    const app2 = await h.startAppliance({ redisUrl: redis.url, port: app.port, httpPort: app.httpPort,
      agentKey: app.agentKey, uiKey: app.uiKey });
    const ui2 = await h.connectUi(app2);
    await h.waitFor(() => samplesOf(ui2, id).some((r) => r.data.isActive === true), 15000, 'samples after the restart');
    assert.match(agent.output(), /reconnecting in/);
    await h.stopProcess(agent);
    await app2.stop();
  });

  test('a wrong key: the agent exits 3 saying the key was refused, without retrying', async () => {
    const redis = await h.startRedis();
    const app = await h.startAppliance({ redisUrl: redis.url });
    const agent = h.startAgent(app, { key: 'not-the-agent-key', id: uniqueId('badkey') });
    const t = setTimeout(() => agent.kill('SIGKILL'), 8000);
    const { code } = await agent.exited;
    clearTimeout(t);
    assert.equal(code, 3, agent.output());
    assert.match(agent.output(), /agent key refused by server/);
    assert.doesNotMatch(agent.output(), /reconnecting/);
    await app.stop();
  });

  test('SIGTERM: the agent says goodbye, exits 0, and the dashboard shows it offline', async () => {
    const redis = await h.startRedis();
    const app = await h.startAppliance({ redisUrl: redis.url });
    const ui = await h.connectUi(app);
    const id = uniqueId('term');
    const agent = h.startAgent(app, { id });
    await h.waitFor(() => samplesOf(ui, id).length >= 2, 5000, 'samples');
    const stoppedAt = Date.now();
    const { code } = await h.stopProcess(agent);
    assert.equal(code, 0);
    await h.waitFor(() => samplesOf(ui, id).some((r) => r.data.isActive === false && r.at >= stoppedAt),
      3000, 'isActive:false within 3 s');
    await app.stop();
  });

  test('footprint: RSS under 4 MB, and flat at 20 samples a second (no per-sample allocation)', async (t) => {
    // ASan's shadow memory and quarantine make RSS meaningless (make asan)
    if (fs.readFileSync(AGENT).includes('__asan_init')) { t.skip('sanitizer build: RSS is not the product\'s'); return; }
    const redis = await h.startRedis();
    const app = await h.startAppliance({ redisUrl: redis.url });
    const ui = await h.connectUi(app);
    const id = uniqueId('rss');
    const agent = h.startAgent(app, { id, interval: 0.05 });
    await h.waitFor(() => samplesOf(ui, id).length >= 20, 5000, 'samples');
    await h.sleep(1000);
    const early = rssKb(agent.pid);
    const n0 = samplesOf(ui, id).length;
    await h.sleep(4000);
    const late = rssKb(agent.pid);
    assert.ok(samplesOf(ui, id).length - n0 >= 60, 'the agent kept sending');
    assert.ok(late < 4096, `RSS ${late} kB`);
    assert.ok(late - early <= 8, `RSS grew from ${early} to ${late} kB over ~80 samples`);
    await h.stopProcess(agent);
    await app.stop();
  });

  test('the key can come from a file or the environment', async () => {
    const redis = await h.startRedis();
    const app = await h.startAppliance({ redisUrl: redis.url });
    const ui = await h.connectUi(app);
    const dir = h.tmpdir('perfload-agent-key-');
    const keyFile = path.join(dir, 'agent.key');
    fs.writeFileSync(keyFile, app.agentKey + '\n', { mode: 0o600 });
    const idFile = uniqueId('keyfile');
    const idEnv = uniqueId('keyenv');
    const a1 = h.startProcess(AGENT, ['--server', app.url, '--key-file', keyFile, '--id', idFile]);
    const a2 = h.startProcess(AGENT, [], { env: { ...process.env, PERFLOAD_SERVER: app.url,
      PERFLOAD_AGENT_KEY: app.agentKey, PERFLOAD_AGENT_ID: idEnv } });
    await h.waitFor(() => samplesOf(ui, idFile).length >= 1 && samplesOf(ui, idEnv).length >= 1, 8000,
      'samples from both agents');
    await h.stopProcess(a1);
    await h.stopProcess(a2);
    await app.stop();
  });
});

describe('perfload-agent over TLS (wss via a TLS proxy)', () => {
  test('verifies the certificate by default; --ca-file trusts it; --insecure skips the check', async () => {
    const redis = await h.startRedis();
    const app = await h.startAppliance({ redisUrl: redis.url });
    const ui = await h.connectUi(app);
    const cert = A.selfSignedCert(h.tmpdir('perfload-agent-tls-'));
    const proxy = await A.tlsProxy(await h.freePort(), app.port, cert);
    const url = `https://127.0.0.1:${proxy.port}`;
    const ids = { verify: uniqueId('tls-verify'), ca: uniqueId('tls-ca'), insecure: uniqueId('tls-insecure'),
      host: uniqueId('tls-host') };
    const strict = h.startProcess(AGENT, ['--server', url, '--key', app.agentKey, '--id', ids.verify]);
    const withCa = h.startProcess(AGENT, ['--server', url, '--key', app.agentKey, '--id', ids.ca, '--ca-file', cert.cert]);
    const insecure = h.startProcess(AGENT, ['--server', `wss://127.0.0.1:${proxy.port}`, '--key', app.agentKey,
      '--id', ids.insecure, '--insecure']);
    // trusted CA but the certificate names 127.0.0.1, not localhost
    const wrongHost = h.startProcess(AGENT, ['--server', `https://localhost:${proxy.port}`, '--key', app.agentKey,
      '--id', ids.host, '--ca-file', cert.cert]);
    await h.waitFor(() => samplesOf(ui, ids.ca).length >= 2 && samplesOf(ui, ids.insecure).length >= 2, 10000,
      'samples over TLS');
    assert.equal(samplesOf(ui, ids.verify).length, 0, 'an unverifiable certificate must not be accepted');
    assert.equal(samplesOf(ui, ids.host).length, 0, 'a certificate for another host name must not be accepted');
    assert.match(strict.output(), /cannot connect.*TLS/);
    assert.match(wrongHost.output(), /cannot connect.*TLS/);
    assert.match(insecure.output(), /not verified/);
    for (const p of [strict, withCa, insecure, wrongHost]) await h.stopProcess(p);
    await proxy.close();
    await app.stop();
  });
});

describe('perfload-agent systemd unit', () => {
  const unitPath = path.join(h.ROOT, 'agent/perfload-agent.service');
  const unit = fs.readFileSync(unitPath, 'utf8');

  test('runs unprivileged and sandboxed, and does not restart on a refused key (exit 3)', () => {
    const settings = {};
    for (const line of unit.split('\n')) {
      const m = line.match(/^([A-Za-z]+)=(.*)$/);
      if (m) (settings[m[1]] ||= []).push(m[2]);
    }
    assert.deepEqual(settings.DynamicUser, ['yes']);
    assert.deepEqual(settings.NoNewPrivileges, ['yes']);
    assert.deepEqual(settings.ProtectSystem, ['strict']);
    assert.deepEqual(settings.CapabilityBoundingSet, ['']);
    assert.ok(!settings.ProcSubset, 'ProcSubset=pid would hide /proc/stat');
    assert.ok(settings.RestartPreventExitStatus[0].split(/\s+/).includes('3'));
    assert.match(settings.ExecStart[0], /perfload-agent$/);
    assert.ok(settings.Environment.some((e) => e === 'PERFLOAD_AGENT_KEY_FILE=%d/agent.key'));
  });

  test('systemd-analyze accepts the unit and rates its exposure low', (t) => {
    let analyze;
    try { analyze = execFileSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).trim(); } catch {}
    if (!analyze) { t.skip('systemd-analyze is not installed (Debian package systemd)'); return; }
    const dir = h.tmpdir('perfload-agent-unit-');
    const copy = path.join(dir, 'perfload-agent.service');
    fs.writeFileSync(copy, unit.replace(/^ExecStart=.*$/m, `ExecStart=${AGENT}`));
    execFileSync(analyze, ['verify', copy], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const sec = execFileSync(analyze, ['security', '--offline=yes', copy], { encoding: 'utf8' });
    const level = Number(sec.match(/Overall exposure level for \S+: ([\d.]+)/)[1]);
    assert.ok(level <= 2.0, `exposure ${level}`);
  });
});
