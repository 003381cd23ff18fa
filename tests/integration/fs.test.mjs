// perfload-fs: every machine's live numbers as files (DESIGN.md §7, issue 8).
// Mounts for real (FUSE works here as root) on temp dirs; every mount is
// unmounted in after(), also when a test fails.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bin, startRedis, startAppliance, startAgent, stopProcess, waitFor, sleep, cleanup } from './harness.mjs';
import { cat, run, redisCli, putMachine, isMounted, mountFs, fsCleanup } from './lib/fs.mjs';

const num = (s) => (/^-?\d+(\.\d+)?(e[+-]?\d+)?\n$/.test(s) ? Number(s) : NaN);
const ls = async (dir) => {
  const r = await run('ls', ['-1A', dir], 5000);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
};

describe('perfload-fs with the appliance and two agents', () => {
  let redis, appliance, agentA, mnt;
  const A = 'fs-test-a:01', B = 'fs-test-b:02';

  before(async () => {
    redis = await startRedis();
    appliance = await startAppliance({ redisUrl: redis.url });
    agentA = startAgent(appliance, { id: A, interval: 1 });
    startAgent(appliance, { id: B, interval: 1 });
    mnt = await mountFs(redis.url);
  });
  after(async () => { await fsCleanup(); await cleanup(); });

  test('ls MOUNT lists both machines, plus README and machines', async () => {
    await waitFor(async () => { const l = await ls(mnt.dir); return l.includes(A) && l.includes(B); },
      10000, 'both agents listed');
    const names = await ls(mnt.dir);
    assert.ok(names.includes('README') && names.includes('machines'));
    const machines = (await cat(path.join(mnt.dir, 'machines'))).stdout;
    assert.match(machines, new RegExp(`^${A} 1$`, 'm'));
    assert.match(machines, new RegExp(`^${B} 1$`, 'm'));
  });

  test('every contract file holds one newline-terminated value in its unit', async () => {
    const dir = path.join(mnt.dir, A);
    const files = await ls(dir);
    for (const f of ['cpu_load', 'mem_usage', 'free_mem', 'total_mem', 'used_mem', 'os_type', 'up_time',
      'cpu_model', 'num_cores', 'cpu_speed', 'is_active', 'last_seen', 'sample.json']) {
      assert.ok(files.includes(f), `${f} in ${files}`);
    }
    const read = async (f) => { const r = await cat(path.join(dir, f)); assert.equal(r.code, 0, r.stderr); return r.stdout; };
    const cpu = num(await read('cpu_load'));
    assert.ok(cpu >= 0 && cpu <= 100, `cpu_load ${cpu}`);
    const usage = num(await read('mem_usage'));
    assert.ok(usage >= 0 && usage <= 1, `mem_usage ${usage}`);
    assert.equal(num(await read('num_cores')), os.cpus().length);
    const nproc = (await run('nproc', [])).stdout.trim();
    assert.equal((await read('num_cores')).trim(), nproc);
    const total = num(await read('total_mem'));
    assert.ok(Math.abs(total - os.totalmem()) / os.totalmem() < 0.05, `total_mem ${total} vs ${os.totalmem()}`);
    assert.equal(await read('is_active'), '1\n');
    assert.equal(await read('os_type'), 'Linux\n');
    const lastSeen = num(await read('last_seen'));
    assert.ok(Math.abs(lastSeen - Date.now() / 1000) < 5, `last_seen ${lastSeen}`);
    const sample = JSON.parse(await read('sample.json'));
    assert.equal(sample.macA, A);
    // st_mtime is the sample time, so find -newermt and stat mean something
    const st = fs.statSync(path.join(dir, 'cpu_load'));
    assert.ok(Math.abs(st.mtimeMs / 1000 - Date.now() / 1000) < 5, `mtime ${st.mtime}`);
  });

  test('cpu_load and last_seen are live: they change over 3 s', async () => {
    const f = path.join(mnt.dir, A, 'cpu_load');
    const loads = new Set();
    const stored = new Set();
    const seen = new Set();
    for (let i = 0; i < 8; i++) {
      const r = await cat(f);
      assert.equal(r.code, 0, r.stderr);
      const v = num(r.stdout);
      assert.ok(v >= 0 && v <= 100, `cpu_load ${JSON.stringify(r.stdout)}`);
      loads.add(v);
      stored.add(JSON.parse(await redisCli(redis, 'HGET', `perfload:machine:${A}`, 'sample')).cpuLoad);
      seen.add((await cat(path.join(mnt.dir, A, 'last_seen'))).stdout);
      await sleep(450);
    }
    assert.ok(seen.size >= 2, `last_seen never moved: ${[...seen]}`);
    // On a saturated machine the agent may honestly report 100 every time;
    // then the file cannot change either. Whenever Redis changed, it must.
    assert.ok(loads.size >= 2 || stored.size === 1,
      `cpu_load never changed (${[...loads]}) while Redis held ${[...stored]}`);
  });

  test('50 concurrent readers for 10 s get only valid values', async () => {
    const files = [];
    for (const mac of [A, B]) for (const f of ['cpu_load', 'mem_usage', 'num_cores', 'is_active', 'free_mem'])
      files.push(path.join(mnt.dir, mac, f));
    // each xargs child prints "<file> <value>" so a short or torn read shows up
    const script = `end=$((SECONDS+10)); while [ $SECONDS -lt $end ]; do
      printf '%s\\n' ${files.map((f) => `'${f}'`).join(' ')} |
      xargs -P 50 -n 1 sh -c 'v=$(cat "$1") || { echo "ERR $1"; exit 0; }; echo "$1 $v"' _ ; done`;
    const r = await run('bash', ['-c', script], 60000);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter(Boolean);
    assert.ok(lines.length > 200, `only ${lines.length} reads`);
    for (const line of lines) {
      assert.ok(!line.startsWith('ERR'), line);
      const [file, value, extra] = line.split(' ');
      assert.equal(extra, undefined, line);
      const v = Number(value);
      assert.ok(value !== '' && Number.isFinite(v), line);
      if (file.endsWith('cpu_load')) assert.ok(v >= 0 && v <= 100, line);
      if (file.endsWith('mem_usage')) assert.ok(v >= 0 && v <= 1, line);
      if (file.endsWith('num_cores')) assert.equal(v, os.cpus().length, line);
      if (file.endsWith('is_active')) assert.ok(v === 0 || v === 1, line);
    }
  });

  test('is_active flips to 0 within 5 s after an agent stops', async () => {
    await stopProcess(agentA);
    const t0 = Date.now();
    await waitFor(async () => (await cat(path.join(mnt.dir, A, 'is_active'))).stdout === '0\n', 5000, 'is_active 0');
    assert.ok(Date.now() - t0 <= 5000);
    assert.match((await cat(path.join(mnt.dir, 'machines'))).stdout, new RegExp(`^${A} 0$`, 'm'));
    assert.equal((await cat(path.join(mnt.dir, B, 'is_active'))).stdout, '1\n');
  });

  test('Redis down: reads fail within 2 s; Redis back: the same read works without remounting', async () => {
    const f = path.join(mnt.dir, B, 'cpu_load');
    assert.equal((await cat(f)).code, 0);
    await redis.stop();
    await sleep(300);   // let the 250 ms cache expire
    for (let i = 0; i < 3; i++) {
      const r = await cat(f, 5000);
      assert.notEqual(r.code, 0, `read succeeded with Redis down: ${r.stdout}`);
      assert.ok(!r.killed && r.ms < 2000, `took ${r.ms} ms`);
    }
    const l = await run('ls', [mnt.dir], 5000);
    assert.ok(l.code !== 0 && l.ms < 2000, `ls with Redis down: code ${l.code} in ${l.ms} ms`);
    await redis.restart();
    // the restarted Redis is empty until the appliance writes B's next sample
    await waitFor(async () => { const r = await cat(f); return r.code === 0 && num(r.stdout) >= 0; },
      15000, 'cpu_load readable again');
    assert.ok(isMounted(mnt.dir));
    assert.equal(mnt.proc.exitCode, null, 'perfload-fs kept running');
  });
});

describe('perfload-fs against hostile Redis contents', () => {
  let redis, mnt;
  const GOOD = 'aa:bb:cc:dd:ee:01';

  before(async () => {
    redis = await startRedis();
    const now = Date.now();
    await putMachine(redis, GOOD, {
      sample: { macA: GOOD, cpuLoad: 12.5, memUsage: 0.5, freeMem: 4e9, totalMem: 8e9, usedMem: 4e9, osType: 'Linux',
        upTime: 99, cpuModel: 'Evil\nCPU\u0001', numCores: 4, cpuSpeed: 2400, isActive: true,
        loadAvg: [0.5, 1, 1.5], swap: { total: 1024, used: 0 } },
      lastSeen: String(now), firstSeen: String(now - 60000), active: '1' });
    for (const bad of ['..', '.', 'a/b', '\u0001', 'x'.repeat(65), 'sp ace', 'new\nline', '../../etc', 'README', 'machines'])
      await putMachine(redis, bad, { sample: { macA: 'x', cpuLoad: 1 }, lastSeen: String(now), active: '1' });
    await putMachine(redis, 'garbage-json', { sample: '{"cpuLoad": [[[', lastSeen: 'soon', active: 'maybe' });
    await putMachine(redis, 'not-an-object', { sample: '[1,2,3]', active: '1' });
    await redisCli(redis, 'SADD', 'perfload:machines', 'wrong-type');
    await redisCli(redis, 'SET', 'perfload:machine:wrong-type', 'a string');
    await redisCli(redis, 'SADD', 'perfload:machines', 'no-hash');
    mnt = await mountFs(redis.url);
  });
  after(async () => { await fsCleanup(); await cleanup(); });

  test('hostile machine ids are never listed and cannot be opened', async () => {
    const names = await ls(mnt.dir);
    assert.deepEqual(names.sort(), ['README', GOOD, 'garbage-json', 'machines', 'no-hash', 'not-an-object', 'wrong-type'].sort());
    for (const p of ['a/b/cpu_load', '\u0001/cpu_load', 'x'.repeat(65) + '/cpu_load', 'sp ace/cpu_load',
      'README/cpu_load', 'machines/cpu_load']) {
      const r = await cat(path.join(mnt.dir, p));
      assert.notEqual(r.code, 0, p);
      assert.match(r.stderr, /No such file|Not a directory/);
    }
    const machines = (await cat(path.join(mnt.dir, 'machines'))).stdout;
    assert.doesNotMatch(machines, /\.\.|a\/b|\u0001|sp ace/);
    assert.equal(machines.split('\n').filter(Boolean).length, 5);
  });

  test('garbage in a machine hash never crashes the daemon', async () => {
    assert.deepEqual(await ls(path.join(mnt.dir, 'garbage-json')), ['is_active']);
    assert.equal((await cat(path.join(mnt.dir, 'garbage-json', 'is_active'))).stdout, '0\n');
    assert.deepEqual((await ls(path.join(mnt.dir, 'not-an-object'))), ['is_active']);
    assert.deepEqual((await ls(path.join(mnt.dir, 'wrong-type'))), ['is_active']);
    assert.deepEqual((await ls(path.join(mnt.dir, 'no-hash'))), ['is_active']);
    // strings keep to one line, extras appear under snake_case names
    assert.equal((await cat(path.join(mnt.dir, GOOD, 'cpu_model'))).stdout, 'Evil CPU \n');
    assert.equal((await cat(path.join(mnt.dir, GOOD, 'load_avg'))).stdout, '0.5 1 1.5\n');
    assert.equal((await cat(path.join(mnt.dir, GOOD, 'swap_total'))).stdout, '1024\n');
    assert.equal(mnt.proc.exitCode, null);
  });

  test('a value is live: a new sample shows on the next read after the cache (<= 250 ms)', async () => {
    const f = path.join(mnt.dir, GOOD, 'cpu_load');
    assert.equal((await cat(f)).stdout, '12.5\n');
    const when = Date.now() + 1000;
    await putMachine(redis, GOOD, { sample: { macA: GOOD, cpuLoad: 77 }, lastSeen: String(when) });
    await sleep(300);
    assert.equal((await cat(f)).stdout, '77\n');
    assert.equal(Math.floor(fs.statSync(f).mtimeMs), when);
    // one open file descriptor re-read from offset 0 also sees the new value
    const fd = fs.openSync(f, 'r');
    try {
      const buf = Buffer.alloc(64);
      assert.equal(buf.toString('utf8', 0, fs.readSync(fd, buf, 0, 64, 0)), '77\n');
      await putMachine(redis, GOOD, { sample: { macA: GOOD, cpuLoad: 3.25 } });
      await sleep(300);
      assert.equal(buf.toString('utf8', 0, fs.readSync(fd, buf, 0, 64, 0)), '3.25\n');
    } finally { fs.closeSync(fd); }
    // machines appear and disappear with Redis
    await putMachine(redis, 'late-comer', { sample: { macA: 'late-comer', cpuLoad: 5 }, active: '1' });
    await waitFor(async () => (await ls(mnt.dir)).includes('late-comer'), 2000, 'late-comer listed');
    await redisCli(redis, 'SREM', 'perfload:machines', 'late-comer');
    await waitFor(async () => !(await ls(mnt.dir)).includes('late-comer'), 2000, 'late-comer gone');
    assert.notEqual((await cat(path.join(mnt.dir, 'late-comer', 'cpu_load'))).code, 0);
  });

  test('writes, creates, mkdir, unlink and truncate get EROFS', async () => {
    const f = path.join(mnt.dir, GOOD, 'cpu_load');
    const attempts = [
      () => fs.writeFileSync(f, '1'),
      () => fs.appendFileSync(f, '1'),
      () => fs.writeFileSync(path.join(mnt.dir, 'new-file'), '1'),
      () => fs.writeFileSync(path.join(mnt.dir, GOOD, 'new-file'), '1'),
      () => fs.mkdirSync(path.join(mnt.dir, 'new-dir')),
      () => fs.unlinkSync(f),
      () => fs.rmdirSync(path.join(mnt.dir, GOOD)),
      () => fs.truncateSync(f, 0),
      () => fs.renameSync(f, path.join(mnt.dir, GOOD, 'x')),
      () => fs.chmodSync(f, 0o777),
      () => fs.symlinkSync('/etc/passwd', path.join(mnt.dir, 'link')),
    ];
    for (const a of attempts) assert.throws(a, (e) => e.code === 'EROFS', a.toString());
    assert.equal((await cat(f)).code, 0);
  });

  test('README explains the files; --help and --version work', async () => {
    const readme = (await cat(path.join(mnt.dir, 'README'))).stdout;
    for (const w of ['cpu_load', 'percent', 'mem_usage', 'fraction', 'bytes', 'MHz', 'epoch seconds', 'sample.json'])
      assert.ok(readme.includes(w), w);
    const help = await run(bin('perfload-fs'), ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--redis URL/);
    assert.match(help.stdout, /allow_other/);
    const version = await run(bin('perfload-fs'), ['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /perfload-fs \d+\.\d+\.\d+/);
  });

  test('SIGTERM unmounts cleanly', async () => {
    const r = await mnt.unmount();
    assert.deepEqual(r, { code: 0, signal: null });
    assert.ok(!isMounted(mnt.dir));
  });
});
