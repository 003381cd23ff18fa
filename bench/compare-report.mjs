// compare-report.mjs -- turns compare.sh's results (one JSON line per step)
// into the markdown tables of docs/benchmarks.md. Only the text between
// <!-- bench:begin --> and <!-- bench:end --> is replaced, so hand-written
// sections (the agent footprint, profiles) stay as they are.
//
//   node bench/compare-report.mjs RESULTS.jsonl OUT.md "MACHINE" DURATION QUICK
import fs from 'node:fs';

const [resultsPath, outPath, machine, duration, quick] = process.argv.slice(2);
const rows = fs.readFileSync(resultsPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l.replace(/:(-?nan|-?inf)\b/g, ':null')));
const BEGIN = '<!-- bench:begin -->';
const END = '<!-- bench:end -->';

const num = (v, d = 1) => (v === undefined || v === null || Number.isNaN(v) ? '—' : Number(v).toFixed(d));
const int = (v) => (v === undefined || v === null ? '—' : Math.round(v).toLocaleString('en-US'));
const mb = (kb) => (kb ? `${(kb / 1024).toFixed(0)} MB` : '—');
const kbPerAgent = (b) => (b === undefined || b === null || Number.isNaN(b) ? '—' : `${(b / 1024).toFixed(1)} KB`);
const broke = (r) => r.failed || r.connect.failed > 0 || r.lost > 0 || r.latency_ms.p99 > 1000 ||
  (r.per_dashboard || []).some((d) => d.dropped);

function table(system) {
  const mine = rows.filter((x) => x.system === system);
  if (mine.length === 0) return '(not run)\n';
  const out = [
    '| agents | workers (connections routed to each) | ramp s / generator processes | connected | offered/s | delivered (window) | p50 / p99 / max ms | server CPU µs per delivered msg | Redis CPU µs per delivered msg | server CPU % | server RSS | memory per agent | loss | duplicates | generator CPU (busiest process) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { workers, split, ramp, procs, result: r } of mine) {
    // split: PerfLoad's sticky hash over the source addresses (the Node
    // reference hashes differently; only its worker count is the same).
    const w = split && system === 'perfload' ? `${workers} (${split.split(',').map((c) => int(Number(c))).join(' / ')})` : `${workers}`;
    const rp = ramp ? `${ramp} / ${procs}` : '—';
    if (r.failed) {
      out.push(`| ${int(r.agents)} | ${w} | ${rp} | bench failed | | | | | | | | | | | |`);
      continue;
    }
    const s = r.server || {};
    const red = r.redis || {};
    out.push(`| ${int(r.agents)} | ${w} | ${rp} | ${int(r.connect.ok)}${r.connect.failed ? ` (${int(r.connect.failed)} failed)` : ''}` +
      ` | ${int(r.offered_per_s)} | ${int(r.delivered_window)}` +
      ` | ${num(r.latency_ms.p50, 2)} / ${num(r.latency_ms.p99, 2)} / ${num(r.latency_ms.max, 0)}` +
      ` | ${num(s.cpu_us_per_delivered, 2)} | ${num(red.cpu_us_per_delivered, 2)} | ${num(s.cpu_pct, 0)} %` +
      ` | ${mb(s.rss_kb)} | ${kbPerAgent(s.bytes_per_agent)} | ${int(r.lost)} | ${int(r.duplicates)}` +
      ` | ${num(r.generator.busiest_process_pct, 0)} %${broke(r) ? ' **broke**' : ''} |`);
  }
  const notes = mine.map(noteFor).filter(Boolean);
  if (notes.length) out.push('', 'What the server and Redis logged during a step (counts; `compare.sh` `step_notes`):', '', ...notes);
  return out.join('\n') + '\n';
}

/* One line for a step whose server or Redis reported overload, else null. */
function noteFor({ notes: n, result: r }) {
  if (!n) return null;
  const parts = [];
  if (n.handoff_failed) parts.push(`${int(n.handoff_failed)} connections closed by the master before a worker took them`);
  if (n.redis_link_full) parts.push(`a worker's Redis link passed its bound and dropped commands ${int(n.redis_link_full)} times`);
  if (n.slow_dashboards) parts.push(`${n.slow_dashboards} dashboard(s) dropped as slow readers`);
  if (n.redis_closed_subscribers) parts.push(`Redis closed ${n.redis_closed_subscribers} subscriber link(s) over the pubsub output-buffer limit`);
  return parts.length ? `- ${int(r.agents)} agents: ${parts.join('; ')}.` : null;
}

function ratios() {
  const p = new Map(rows.filter((x) => x.system === 'perfload' && !x.result.failed).map((x) => [x.result.agents, x.result]));
  const n = new Map(rows.filter((x) => x.system === 'node' && !x.result.failed).map((x) => [x.result.agents, x.result]));
  const out = [
    '| agents | p99 Node / PerfLoad | server CPU per msg Node / PerfLoad | server RSS Node / PerfLoad | memory per agent Node / PerfLoad |',
    '| ---: | ---: | ---: | ---: | ---: |',
  ];
  let any = false;
  for (const [agents, a] of p) {
    const b = n.get(agents);
    if (!b || !a.server || !b.server) continue;
    any = true;
    const r = (x, y) => (x > 0 && y > 0 ? `${(x / y).toFixed(1)}×` : '—');
    out.push(`| ${int(agents)} | ${r(b.latency_ms.p99, a.latency_ms.p99)} | ${r(b.server.cpu_us_per_delivered, a.server.cpu_us_per_delivered)}` +
      ` | ${r(b.server.rss_kb, a.server.rss_kb)} | ${r(b.server.bytes_per_agent, a.server.bytes_per_agent)} |`);
  }
  const held = (m) => Math.max(0, ...[...m.values()].filter((r) => !broke(r)).map((r) => r.agents));
  out.push('');
  out.push(`Most agents held without breaking: PerfLoad ${int(held(p))}, Node.js reference ${int(held(n))}` +
    (held(n) > 0 ? ` (${(held(p) / held(n)).toFixed(1)}×).` : '.') +
    ' Rows where a system broke compare a broken run and are marked so in its table.');
  return any ? out.join('\n') + '\n' : 'No step ran on both systems.\n';
}

const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
const commands = [...new Set(rows.map((x) => x.command.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:PORT').replace(/--agents \d+/, '--agents N').replace(/--ramp \d+/, '--ramp R').replace(/--procs \d+/, '--procs P')))];
const block = `${BEGIN}
## Server: PerfLoad and the Node.js reference, same generator, same box

Generated by \`bench/compare.sh${quick === '1' ? ' --quick' : ''}\` on ${date} UTC. Machine: ${machine}.
Load generator, both servers and both Redis instances share the machine; the generator's own CPU is
the last column so a saturated generator would be visible.

Each step: a fresh \`redis-server\` and server, N agents at 1 sample/s each (a ~330-byte sample
with a per-agent sequence number and its send time as extra fields), ${rows[0]?.result?.dashboards ?? 2}
dashboards receiving every \`data\`; agents connect over the ramp, then a ${duration} s steady-state
window is measured; loss and duplicates count every sample sent (per-agent sequence numbers), after a
3 s drain. A *delivered message* is one \`data\` received by one dashboard, so CPU per delivered
message = server CPU seconds in the window / (samples × dashboards). Server CPU and RSS are summed
over the server's process tree (master + workers) from \`/proc\`; Redis has its own column. Memory per
agent = (server RSS at the end of the window − RSS with only the dashboards connected) / agents.
A ladder stops at the first step that breaks (loss > 0, p99 > 1 s or failed connects).

### PerfLoad (\`perfload-appliance\`)

${table('perfload')}
### Node.js reference (\`../shared/peer\`: cluster + socket.io 4 + Redis adapter)

${table('node')}
### Ratio

${ratios()}
### Commands

\`\`\`sh
make bins && bench/compare.sh${quick === '1' ? ' --quick' : ''}
# servers (W = workers column; fresh redis-server --save '' per step):
#   perfload-appliance --workers W --redis redis://127.0.0.1:RPORT --send-queue-max 67108864 --log-level 1 ...
#   (cd /tmp/perfload-peer && REDIS_URL=redis://127.0.0.1:RPORT WORKERS=W PORT=PORT node server.js)
# each step runs (K, U: the keys; SERVER, REDIS: their pids):
${commands.map((c) => '# ' + c).join('\n')}
\`\`\`
${END}`;

let text = fs.existsSync(outPath) ? fs.readFileSync(outPath, 'utf8') : '# Benchmarks\n';
const b = text.indexOf(BEGIN);
const e = text.indexOf(END);
if (b >= 0 && e > b) {
  text = text.slice(0, b) + block + text.slice(e + END.length);
} else {
  // After the title: the generated comparison first, every other section kept below.
  const nl = text.indexOf('\n');
  text = text.slice(0, nl + 1) + '\n' + block + '\n' + text.slice(nl + 1);
}
fs.writeFileSync(outPath, text);
