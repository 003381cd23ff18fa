// perfload-bench against a real appliance (2 workers, its own Redis): a short
// run whose counts must add up exactly. No timing thresholds here -- timing
// claims come from bench/compare.sh, not from tests on a shared machine.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { startRedis, startAppliance, cleanup, bin, connectUi, onceEvent } from './harness.mjs';

after(cleanup);

function runBench(args) {
  return new Promise((resolve, reject) => {
    execFile(bin('perfload-bench'), args, { timeout: 60000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`perfload-bench failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

test('50 agents x 1/s, 2 dashboards, 3 s: every sample delivered once to each dashboard, sane JSON', async () => {
  const redis = await startRedis();
  const app = await startAppliance({ workers: 2, redisUrl: redis.url });
  const { stdout } = await runBench([
    '--url', app.url, '--agent-key', app.agentKey, '--ui-key', app.uiKey,
    '--agents', '50', '--dashboards', '2', '--rate', '1', '--duration', '3', '--ramp', '1', '--drain', '2',
    '--source-ips', '127.0.0.2-127.0.0.9', '--procs', '2', '--server-pid', String(app.proc.pid), '--json',
  ]);
  const r = JSON.parse(stdout);
  assert.equal(r.agents, 50);
  assert.deepEqual(r.connect, { ok: 50, failed: 0, dropped: 0 });
  // Every connected agent sends once per second of the window (+/- the
  // sample in flight at either edge).
  assert.ok(r.offered_window >= 50 * 2 && r.offered_window <= 50 * 4, `offered ${r.offered_window}`);
  assert.ok(r.sent >= r.offered_window);
  assert.equal(r.per_dashboard.length, 2);
  for (const d of r.per_dashboard) {
    assert.equal(d.lost, 0);
    assert.equal(d.duplicates, 0);
    assert.equal(d.foreign, 0);
    assert.equal(d.dropped, false);
    assert.equal(d.delivered, r.sent, 'each dashboard got every sample sent');
    assert.equal(d.delivered_window, r.offered_window);
  }
  assert.equal(r.lost, 0);
  assert.equal(r.duplicates, 0);
  assert.equal(r.delivered_window, 2 * r.offered_window);
  assert.equal(r.latency_ms.count, r.delivered_window, 'one latency sample per delivered message');
  const l = r.latency_ms;
  assert.ok(l.p50 >= 0 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max);
  assert.ok(r.server && r.server.rss_kb > 0 && r.server.cpu_s >= 0, 'server tree found in /proc');
  assert.equal(r.redis, null, 'no --redis-pid: no Redis column');
  assert.ok(r.generator.cpu_s >= 0);
});

test('the samples perfload-bench sends are ordinary samples: a socket.io dashboard sees them as data', async () => {
  const redis = await startRedis();
  const app = await startAppliance({ workers: 1, redisUrl: redis.url });
  const ui = await connectUi(app);
  await onceEvent(ui, 'connect').catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
  const { stdout } = await runBench([
    '--url', app.url, '--agent-key', app.agentKey, '--ui-key', app.uiKey,
    '--agents', '3', '--dashboards', '1', '--duration', '2', '--ramp', '0', '--drain', '1',
  ]);
  const table = stdout;
  assert.match(table, /connect\s+3 ok, 0 failed/);
  assert.match(table, /dashboard 0 +delivered \d+ \(window \d+\), lost 0, duplicates 0/);
  const live = ui.received.map((x) => x.data).filter((d) => typeof d.bseq === 'number' && d.isActive);
  assert.ok(live.length >= 3, `socket.io dashboard saw ${live.length} bench samples`);
  for (const d of live) {
    assert.match(d.macA, /^bench-[0-9a-f]{8}-[0-2]$/);
    assert.equal(typeof d.bts, 'number');
    assert.equal(d.cpuLoad, 37.5);
  }
});

test('bad arguments: exit 64 with a message, no run', async () => {
  await assert.rejects(runBench(['--agents', '10']), /--agent-key and --ui-key are required/);
  await assert.rejects(runBench(['--agent-key', 'a', '--ui-key', 'b', '--source-ips', 'nonsense']), /bad --source-ips/);
});

test('--plan-workers computes the split the master really routes (same sticky hash), and the fewest workers that fit', async () => {
  const { loopbackRange, probeWorker } = await import('./lib/cluster.mjs');
  const ips = loopbackRange(2, 20);
  // One agent per address, no dashboards: the plan's counts are addresses per slot.
  const plan = async (max) => (await runBench(['--agents', String(ips.length), '--dashboards', '0',
    '--source-ips', '127.0.0.2-127.0.0.20', '--plan-workers', String(max)])).stdout.trim();
  const two = await plan(1000);
  assert.match(two, /^2 \d+,\d+$/, 'at least 2 workers');
  const redis = await startRedis();
  const app = await startAppliance({ workers: 2, redisUrl: redis.url });
  const seen = [0, 0];
  for (const ip of ips) seen[(await probeWorker(app, ip)).slot]++;
  assert.equal(two, `2 ${seen.join(',')}`, 'the plan matches where the master sent each address');
  await app.stop();
  // A tighter bound needs more workers; the answer is the first count that fits.
  const max = Math.max(...seen) - 1;
  const [w, split] = (await plan(max)).split(' ');
  const counts = split.split(',').map(Number);
  assert.ok(Number(w) > 2 && counts.length === Number(w), `${w} workers for at most ${max} each`);
  assert.ok(Math.max(...counts) <= max);
  assert.equal(counts.reduce((a, b) => a + b, 0), ips.length);
  await assert.rejects(runBench(['--agents', '40000', '--plan-workers', '18000']), /not enough/,
    'every agent from 127.0.0.1 cannot be split');
});
