// The short soak that `make test` runs: 200 agents for 60 s, one worker
// killed (SIGKILL) half-way; `make soak` is the long version (1000 agents,
// 10 min, a kill every minute: tests/soak/soak.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak } from './soak.mjs';

test('soak: 200 agents x 1/s for 60 s, one worker killed: no sample lost outside reconnect windows, RSS flat', async (t) => {
  const r = await runSoak({ agents: 200, durationS: 60, killEveryS: 30, workers: 2, log: (m) => t.diagnostic(m) });
  t.diagnostic(`sent ${r.samples_sent}, in reconnect windows ${r.samples_in_reconnect_windows}, ` +
    `expected deliveries ${r.deliveries_expected}, lost ${r.lost}; ${r.agent_disconnects} agent reconnects ` +
    `(${JSON.stringify(r.reconnect_ms)} ms)`);
  t.diagnostic(`RSS kB: workers ${r.rss_kb.workers.start} -> ${r.rss_kb.workers.end} (max ${r.rss_kb.workers.max}), ` +
    `master ${r.rss_kb.master.start} -> ${r.rss_kb.master.end}`);
  assert.equal(r.kills, 1);
  assert.equal(r.respawns, 1, 'the killed worker was respawned, nothing else');
  assert.equal(r.unexpected_worker_deaths, 0);
  assert.ok(r.agent_disconnects > 0, 'the kill did disconnect the agents of that worker');
  assert.ok(r.reconnect_ms.max < 5000, `slowest reconnect ${r.reconnect_ms.max} ms`);
  assert.ok(r.samples_sent >= 200 * 55, `samples sent ${r.samples_sent}`);
  assert.ok(r.deliveries_expected >= r.samples_sent, 'most samples were checked at two dashboards or more');
  assert.deepEqual(r.lost_examples, []);
  assert.equal(r.lost, 0);
  assert.equal(r.samples_rejected, 0);
  assert.ok(r.rss_kb.workers.end - r.rss_kb.workers.start < 16 * 1024, 'worker RSS flat');
  assert.ok(r.rss_kb.master.end - r.rss_kb.master.start < 8 * 1024, 'master RSS flat');
});
