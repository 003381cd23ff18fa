// Measures perfload-agent's footprint against a real appliance (its own
// redis-server, free ports): RSS from `ps -o rss=` and CPU time from
// /proc/PID/stat (utime+stime) over a window after a warm-up.
//
//   node tests/integration/lib/agent-footprint.mjs [SECONDS=120] [INTERVAL=1]
//
// Prints one Markdown table row for docs/benchmarks.md ("Agent footprint").
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import * as h from '../harness.mjs';

export function rssKb(pid) {
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim());
}

/** utime + stime of pid, in seconds. */
export function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return (Number(fields[11]) + Number(fields[12])) / ticks;       // fields 14 and 15 of stat(5)
}

export async function measure(seconds, interval = 1, warmup = 5) {
  const redis = await h.startRedis();
  const app = await h.startAppliance({ redisUrl: redis.url });
  const ui = await h.connectUi(app);
  const agent = h.startAgent(app, { id: 'footprint', interval });
  await h.sleep(warmup * 1000);
  const cpu0 = cpuSeconds(agent.pid);
  const n0 = ui.received.filter((r) => r.data.macA === 'footprint').length;
  let rssMax = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < seconds * 1000) {
    rssMax = Math.max(rssMax, rssKb(agent.pid));
    await h.sleep(1000);
  }
  const elapsed = (Date.now() - t0) / 1000;
  const cpu = cpuSeconds(agent.pid) - cpu0;
  const samples = ui.received.filter((r) => r.data.macA === 'footprint').length - n0;
  const result = { seconds: elapsed, interval, rssKb: rssKb(agent.pid), rssMaxKb: rssMax, cpuSeconds: cpu,
    cpuPercent: (100 * cpu) / elapsed, samples };
  await h.cleanup();
  return result;
}

if (process.argv[1] && process.argv[1].endsWith('agent-footprint.mjs')) {
  const seconds = Number(process.argv[2] || 120);
  const interval = Number(process.argv[3] || 1);
  const r = await measure(seconds, interval);
  const cpu = os.cpus()[0].model.trim();
  console.log(`| ${new Date().toISOString().slice(0, 10)} | ${cpu}, ${os.cpus().length} cores, Linux ${os.release()} ` +
    `| ${r.interval} s | ${r.seconds.toFixed(0)} s | ${r.samples} | ${r.rssKb} kB (max ${r.rssMaxKb} kB) ` +
    `| ${r.cpuSeconds.toFixed(2)} s = ${r.cpuPercent.toFixed(3)} % of one core |`);
  process.exit(0);
}
