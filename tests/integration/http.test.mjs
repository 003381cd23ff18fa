// The HTTP side on --http-port: a user opens the dashboard, the dashboard
// asks the API, Prometheus scrapes /metrics, an orchestrator probes /healthz.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import zlib from 'node:zlib';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import {
  startRedis, startAppliance, connectFakeAgent, makeSample, waitFor, cleanup, sleep, tmpdir,
} from './harness.mjs';
import { rawGet, get, api, makeWww } from './lib/http.mjs';

let redis;
let app;
let www;

before(async () => {
  redis = await startRedis();
  www = makeWww();
  app = await startAppliance({ redisUrl: redis.url, workers: 2, args: ['--www', www.root] });
});
after(cleanup);

describe('the dashboard files', () => {
  test('index.html and hashed assets come with the right MIME types and caching', async () => {
    const index = await get(app.httpUrl + '/');
    assert.equal(index.status, 200);
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.match(index.headers.etag, /^"[0-9a-f]{16}"$/);
    assert.equal(index.body.toString(), www.files.index);

    const js = await get(app.httpUrl + '/assets/index-3f9a1c2b.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.body.toString(), www.files.js);

    const types = {
      '/assets/index-77aa00ff.css': 'text/css; charset=utf-8',
      '/favicon.svg': 'image/svg+xml',
      '/logo.png': 'image/png',
    };
    for (const [p, type] of Object.entries(types)) {
      const r = await get(app.httpUrl + p);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers['content-type'], type, p);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', p);
    }
    const png = await get(app.httpUrl + '/logo.png');
    assert.deepEqual(png.body, www.files.png);
  });

  test('a known ETag is answered 304 without a body', async () => {
    const first = await get(app.httpUrl + '/index.html');
    const again = await get(app.httpUrl + '/index.html', { headers: { 'If-None-Match': first.headers.etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.etag, first.headers.etag);
    const other = await get(app.httpUrl + '/index.html', { headers: { 'If-None-Match': '"0000000000000000"' } });
    assert.equal(other.status, 200);
  });

  test('text is gzipped when the client accepts it, and only then', async () => {
    const gz = await get(app.httpUrl + '/assets/index-3f9a1c2b.js', { headers: { 'Accept-Encoding': 'gzip, deflate' } });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers.vary, 'Accept-Encoding');
    assert.ok(gz.body.length < www.files.js.length / 5, `gzip saved little: ${gz.body.length}`);
    assert.equal(zlib.gunzipSync(gz.body).toString(), www.files.js);

    const plain = await get(app.httpUrl + '/assets/index-3f9a1c2b.js', { headers: { 'Accept-Encoding': 'gzip;q=0, br' } });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), www.files.js);
    assert.notEqual(plain.headers.etag, gz.headers.etag, 'each representation has its own ETag');

    const png = await get(app.httpUrl + '/logo.png', { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(png.headers['content-encoding'], undefined, 'PNG is never gzipped');
  });

  test('client-side routes fall back to index.html; missing files are 404', async () => {
    for (const p of ['/machines/aa:bb:cc:dd:ee:ff', '/settings', '/assets']) {
      const r = await get(app.httpUrl + p);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers['cache-control'], 'no-cache', p);
      assert.equal(r.body.toString(), www.files.index, p);
    }
    for (const p of ['/missing.js', '/assets/index-00000000.js', '/assets/nothing']) {
      const r = await get(app.httpUrl + p);
      assert.equal(r.status, 404, p);
    }
  });

  test('path traversal in every spelling is refused and never leaks', async () => {
    const attempts = [
      '/../secret.txt', '/../../../../etc/passwd', '/assets/../../secret.txt',
      '/%2e%2e/secret.txt', '/%2E%2E/%2E%2E/etc/passwd', '/.%2e/secret.txt',
      '/assets%2f..%2f..%2fsecret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt', '/%5c..%5csecret.txt', '/leak.txt', '/up/secret.txt', '/.env',
      '/index.html%00.png', '/%c0%ae%c0%ae/secret.txt',
    ];
    for (const target of attempts) {
      const r = await rawGet(app.httpPort, target);
      assert.ok([400, 403, 404].includes(r.status), `${target} → ${r.status}`);
      assert.ok(!r.body.includes('TOP-SECRET'), `${target} leaked the secret`);
      assert.ok(!r.body.includes('root:x:0:0'), `${target} leaked /etc/passwd`);
    }
    assert.equal((await rawGet(app.httpPort, '/../secret.txt')).status, 403);
    assert.equal((await rawGet(app.httpPort, '/leak.txt')).status, 403, 'symlink out of the root');
  });

  test('keep-alive: two requests share one TCP connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = await get(app.httpUrl + '/index.html', { agent });
      const b = await get(app.httpUrl + '/api/config', { agent });
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.notEqual(a.headers.connection, 'close');
      assert.equal(a.reusedSocket, false);
      assert.equal(b.reusedSocket, true, 'the second request reused the socket');
    } finally {
      agent.destroy();
    }
  });

  test('only GET and HEAD', async () => {
    const res = await fetch(app.httpUrl + '/index.html', { method: 'POST', body: 'x' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    const head = await fetch(app.httpUrl + '/index.html', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  test('a missing dashboard build gives a page saying how to build it', async () => {
    const missing = tmpdir('perfload-nowww-') + '/dist';
    const bare = await startAppliance({ redisUrl: redis.url, args: ['--www', missing] });
    try {
      for (const p of ['/', '/index.html', '/machines/x']) {
        const r = await get(bare.httpUrl + p);
        assert.equal(r.status, 503, p);
        assert.match(r.headers['content-type'], /^text\/html/);
        assert.match(r.body.toString(), /make www/);
        assert.ok(r.body.toString().includes(missing), 'names the directory it looked in');
      }
      assert.equal((await get(bare.httpUrl + '/api/config')).status, 200, 'the API still works');
    } finally {
      await bare.stop();
    }
  });
});

describe('the API', () => {
  test('/api/config tells the dashboard where the socket server is, without a key', async () => {
    const r = await api(app, '/api/config', null);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { socketUrl: null, socketPort: app.port, uiKeyRequired: true,
      history: false, version: r.json.version });
    assert.match(r.json.version, /^\d+\.\d+\.\d+/);
  });

  test('the machine API needs the UI key as a bearer token', async () => {
    assert.equal((await api(app, '/api/machines', null)).status, 401);
    const wrong = await api(app, '/api/machines', 'not-the-key');
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate'), /^Bearer/);
    assert.equal((await api(app, '/api/machines', app.agentKey)).status, 401, 'the agent key is not the UI key');
    assert.equal((await api(app, '/api/machines')).status, 200);
  });

  test('an open dashboard needs no key; --no-open-metrics protects /metrics and /healthz', async () => {
    const open = await startAppliance({ redisUrl: redis.url, args: ['--open-dashboard', '--no-open-metrics', '--www', www.root] });
    try {
      assert.equal((await api(open, '/api/machines', null)).status, 200);
      assert.equal((await api(open, '/api/config', null)).json.uiKeyRequired, false);
      assert.equal((await api(open, '/metrics', null)).status, 401);
      assert.equal((await api(open, '/healthz', null)).status, 401);
      assert.equal((await api(open, '/metrics')).status, 200);
    } finally {
      await open.stop();
    }
  });

  test('machines appear with isActive and lastSeen, and go inactive when the agent leaves', async () => {
    const mac = 'http:aa:01';
    const agent = await connectFakeAgent(app);
    const t0 = Date.now();
    agent.emit('initPerfData', makeSample(mac, { cpuLoad: 42 }));
    const listed = await waitFor(async () => {
      const r = await api(app, '/api/machines');
      return r.status === 200 && r.json.machines.find((m) => m.macA === mac);
    }, 5000, 'machine listed');
    assert.equal(listed.isActive, true);
    assert.equal(listed.cpuLoad, 42);
    assert.ok(listed.lastSeen >= t0 - 1000 && listed.lastSeen <= Date.now() + 1000, `lastSeen ${listed.lastSeen}`);

    const one = await api(app, `/api/machines/${encodeURIComponent(mac)}`);
    assert.equal(one.status, 200);
    assert.equal(one.json.macA, mac);
    assert.equal(one.json.osType, 'Linux');

    agent.close();
    await waitFor(async () => (await api(app, `/api/machines/${encodeURIComponent(mac)}`)).json.isActive === false,
      6000, 'machine inactive after the agent left');
  });

  test('unknown machines are 404, invalid ids 400, unknown endpoints 404', async () => {
    assert.equal((await api(app, '/api/machines/no-such-machine')).status, 404);
    for (const bad of ['a%20b', '..', '%2e%2e', 'x'.repeat(65), 'a%2Fb', 'caf%C3%A9']) {
      // Raw bytes: fetch would resolve "..", the server must not be fooled by it either.
      const r = await rawGet(app.httpPort, `/api/machines/${bad}`, { Authorization: `Bearer ${app.uiKey}` });
      assert.ok([400, 403].includes(r.status), `${bad} → ${r.status}`);
    }
    assert.equal((await api(app, '/api/nothing')).status, 404);
    assert.equal((await api(app, '/api/machines/ab/nothing')).status, 404);
  });

  test('history without Mongo comes from Redis, in time order, within the range', async () => {
    const mac = 'http:hist:01';
    const agent = await connectFakeAgent(app);
    agent.emit('initPerfData', makeSample(mac, { cpuLoad: 0 }));
    const since = Date.now();
    for (let i = 1; i <= 5; i++) {
      await sleep(120);
      agent.emit('perfData', makeSample(mac, { cpuLoad: i * 10 }));
    }
    const loads = await waitFor(async () => {
      const r = await api(app, `/api/machines/${encodeURIComponent(mac)}/history?since=${since}&until=${Date.now() + 1000}`);
      const pts = r.json && r.json.points;
      return pts && pts.length >= 5 && pts[pts.length - 1].cpuLoad === 50 && r;
    }, 5000, 'history points');
    assert.equal(loads.json.source, 'redis');
    const pts = loads.json.points;
    for (let i = 1; i < pts.length; i++) assert.ok(pts[i].ts > pts[i - 1].ts, 'ascending ts');
    assert.deepEqual(pts.slice(-5).map((p) => p.cpuLoad), [10, 20, 30, 40, 50]);
    assert.ok(pts.every((p) => p.ts >= since));

    const bad = await api(app, `/api/machines/${encodeURIComponent(mac)}/history?since=yesterday`);
    assert.equal(bad.status, 400);
    const reversed = await api(app, `/api/machines/${encodeURIComponent(mac)}/history?since=10&until=5`);
    assert.equal(reversed.status, 400);
    agent.close();
  });
});

describe('junk in Redis', () => {
  test('whatever someone wrote into the keys, the API and /metrics answer and skip the junk', async () => {
    const cli = (...args) => execFileSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' });
    cli('SADD', 'perfload:machines', 'junk:01', 'bad/mac', '..', 'junk:02', 'junk:03');
    cli('HSET', 'perfload:machine:junk:01', 'sample', '{"cpuLoad": "high", "macA": 5', 'lastSeen', 'yesterday', 'active', 'maybe');
    cli('HSET', 'perfload:machine:junk:02', 'sample', '[1,2,3]', 'firstSeen', '-5');
    cli('SET', 'perfload:machine:junk:03', 'not a hash');
    cli('LPUSH', 'perfload:history:junk:01', 'junk', '{"ts":"soon"}', '{"ts":1000,"cpuLoad":"x"}', '[]');

    const list = await api(app, '/api/machines');
    assert.equal(list.status, 200);
    const byMac = Object.fromEntries(list.json.machines.map((m) => [m.macA, m]));
    assert.ok(!byMac['bad/mac'] && !byMac['..'], 'invalid ids are skipped');
    assert.deepEqual(byMac['junk:01'], { macA: 'junk:01', isActive: false, lastSeen: null, firstSeen: null });
    assert.deepEqual(byMac['junk:02'], { macA: 'junk:02', isActive: false, lastSeen: null, firstSeen: null });
    assert.equal(byMac['junk:03'].macA, 'junk:03');

    assert.equal((await api(app, '/api/machines/junk:03')).status, 200);
    const hist = await api(app, '/api/machines/junk:01/history?since=0');
    assert.equal(hist.status, 200);
    assert.deepEqual(hist.json.points, [{ ts: 1000 }]);

    const res = await fetch(app.httpUrl + '/metrics');
    assert.equal(res.status, 200);
    const fams = parsePrometheusTextFormat(await res.text());
    const up = fams.find((f) => f.name === 'perfload_machine_up');
    assert.ok(up.metrics.some((m) => m.labels.mac === 'junk:01' && m.value === '0'));
    cli('DEL', 'perfload:machine:junk:01', 'perfload:machine:junk:02', 'perfload:machine:junk:03', 'perfload:history:junk:01');
    cli('SREM', 'perfload:machines', 'junk:01', 'bad/mac', '..', 'junk:02', 'junk:03');
  });
});

describe('/metrics and /healthz', () => {
  test('/metrics is valid Prometheus text with per-machine gauges and the appliance counters', async () => {
    const good = 'metrics-aa.01';
    const agent = await connectFakeAgent(app);
    agent.emit('initPerfData', makeSample(good, { cpuLoad: 77.5, usedMem: 3e9, totalMem: 8e9, upTime: 999 }));
    await waitFor(async () => (await api(app, `/api/machines/${good}`)).status === 200, 5000, 'machine stored');

    const res = await fetch(app.httpUrl + '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const families = parsePrometheusTextFormat(text);
    const byName = Object.fromEntries(families.map((f) => [f.name, f]));
    const value = (name, labels) => {
      const f = byName[name];
      assert.ok(f, `family ${name} present`);
      const m = f.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels && x.labels[k] === v));
      assert.ok(m, `${name}${JSON.stringify(labels)} present`);
      return Number(m.value);
    };
    assert.equal(value('perfload_machine_cpu_load', { mac: good }), 77.5);
    assert.equal(value('perfload_machine_memory_used_bytes', { mac: good }), 3e9);
    assert.equal(value('perfload_machine_memory_total_bytes', { mac: good }), 8e9);
    assert.equal(value('perfload_machine_uptime_seconds', { mac: good }), 999);
    assert.equal(value('perfload_machine_up', { mac: good }), 1);
    assert.equal(byName.perfload_machine_up.type, 'GAUGE');
    assert.equal(value('perfload_worker_up', { worker: '0' }), 1);
    assert.equal(value('perfload_worker_up', { worker: '1' }), 1);
    const conns = value('perfload_worker_connections', { worker: '0' }) + value('perfload_worker_connections', { worker: '1' });
    assert.ok(conns >= 1, `connections ${conns}`);
    assert.equal(byName.perfload_messages_in_total.type, 'COUNTER');
    const msgs = byName.perfload_messages_in_total.metrics.reduce((s, m) => s + Number(m.value), 0);
    assert.ok(msgs >= 2, `messages in ${msgs}`);
    for (const name of ['perfload_messages_out_total', 'perfload_redis_errors_total', 'perfload_samples_in_total',
      'perfload_accepted_total', 'perfload_redis_up', 'perfload_mongo_enabled']) {
      assert.ok(byName[name], `${name} present`);
    }
    assert.equal(value('perfload_mongo_enabled', {}), 0);
    assert.ok(!byName.perfload_mongo_up, 'no mongo_up sample while Mongo is off');
    // Every HELP/TYPE pair precedes its samples exactly once.
    const typeLines = text.split('\n').filter((l) => l.startsWith('# TYPE '));
    assert.equal(new Set(typeLines).size, typeLines.length, 'no family declared twice');
    agent.close();
  });

  test('/healthz is 503 while Redis is down and 200 again when it returns', async () => {
    const ok = await api(app, '/healthz', null);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.status, 'ok');
    assert.equal(ok.json.redis.up, true);
    assert.equal(ok.json.workersAlive, 2);
    assert.equal(ok.json.workers.length, 2);
    assert.ok(ok.json.workers.every((w) => w.alive && w.pid > 0 && typeof w.connections === 'number'));

    await redis.stop();
    const down = await waitFor(async () => { const r = await api(app, '/healthz', null); return r.status === 503 && r; },
      5000, '/healthz 503 without Redis');
    assert.equal(down.json.redis.up, false);
    assert.equal(down.json.status, 'fail');
    const t0 = Date.now();
    assert.equal((await api(app, '/api/machines')).status, 503);
    assert.ok(Date.now() - t0 < 2500, 'a dead Redis costs a request little time');
    assert.equal((await get(app.httpUrl + '/')).status, 200, 'files are served without Redis');

    await redis.restart();
    await waitFor(async () => (await api(app, '/healthz', null)).status === 200, 8000, '/healthz 200 after Redis returns');
    assert.equal((await api(app, '/api/machines')).status, 200);
  });
});
