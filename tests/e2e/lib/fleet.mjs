// Simulated machines for the dashboard load test: real socket.io-client
// connections from Node, each authenticating with the agent key and sending
// its own macA once per interval, staggered so the server sees a steady rate.
import fs from 'node:fs';
import path from 'node:path';
import {
  bin, client, onceEvent, makeSample, sleep, startAppliance, startAgent, startProcess, stopProcess, freePort, waitFor,
} from '../../integration/harness.mjs';
import { staticServer, WWW_DIST } from './browser.mjs';

export async function startFleet(server, n, { intervalMs = 1000, prefix = 'sim' } = {}) {
  const sockets = [];
  // Connect in small waves: 500 simultaneous handshakes would only test the backlog.
  for (let i = 0; i < n; i += 25) {
    const wave = [];
    for (let j = i; j < Math.min(n, i + 25); j++) {
      const s = client(server.url, { transports: ['websocket'], timeout: 10000 });
      s.mac = `${prefix}-${String(j).padStart(4, '0')}`;
      s.seq = 0;
      sockets.push(s);
      wave.push(onceEvent(s, 'connect', 10000).then(() => s.emit('clientAuth', server.agentKey)));
    }
    await Promise.all(wave);
  }
  const sample = (s) => makeSample(s.mac, {
    cpuLoad: Math.round((50 + 45 * Math.sin((s.seq + s.mac.length * 7 + Number(s.mac.slice(-4))) / 3)) * 10) / 10,
    memUsage: Math.round((0.3 + 0.4 * Math.random()) * 100) / 100,
    upTime: 3600 + s.seq, hostname: s.mac,
  });
  for (const s of sockets) s.emit('initPerfData', sample(s));
  const timers = sockets.map((s, i) => setTimeout(() => {
    s.timer = setInterval(() => { s.seq++; s.emit('perfData', sample(s)); }, intervalMs);
  }, (i * intervalMs) / n));
  return {
    sockets,
    stop() { timers.forEach(clearTimeout); for (const s of sockets) { clearInterval(s.timer); s.close(); } },
  };
}

/**
 * The socket server + dashboard HTTP for UI tests: the real appliance serving
 * www/dist. PERFLOAD_E2E_PEER=<dir of an npm-ci'ed copy of shared/peer> runs
 * the Node reference plus a static mock instead (development only, while the
 * appliance is not built).
 */
export async function startUiServer(redis, opts = {}) {
  const peerDir = process.env.PERFLOAD_E2E_PEER;
  if (!peerDir && fs.existsSync(bin('perfload-appliance'))) {
    const o = { redisUrl: redis.url, workers: opts.workers || 1, args: ['--www', WWW_DIST, ...(opts.args || [])] };
    const a = await startAppliance(o);
    // Same ports and keys again: what a browser sees across an appliance restart.
    a.restart = async () => {
      await a.stop();
      const b = await startAppliance({ ...o, port: a.port, httpPort: a.httpPort, agentKey: a.agentKey, uiKey: a.uiKey });
      a.proc = b.proc;
      a.stop = b.stop;
    };
    return a;
  }
  if (!peerDir) throw new Error(`${bin('perfload-appliance')} not built (make bins)`);
  const port = await freePort();
  const agentKey = 'peer-agent-key';
  const uiKey = 'peer-ui-key';
  startProcess('node', [path.join(peerDir, 'server.js')], { cwd: peerDir,
    env: { ...process.env, REDIS_URL: redis.url, WORKERS: '1', PORT: String(port), AGENT_KEY: agentKey, UI_KEY: uiKey } });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => { try { return (await fetch(`${url}/socket.io/?EIO=4&transport=polling`)).ok; } catch { return false; } },
    10000, 'peer ready');
  const st = await staticServer(WWW_DIST, { socketUrl: null, socketPort: port, uiKeyRequired: true, version: 'peer' });
  await sleep(100);
  return { url, httpUrl: st.url, agentKey, uiKey, stop: st.close, peer: true };
}

/**
 * One machine for the UI tests: the real perfload-agent (1 s interval) against
 * the appliance, or (peer mode) a socket.io-client sending the same kind of
 * samples. { id, stop(), start() }.
 */
export function machine(server, id) {
  const m = { id };
  m.start = async () => {
    if (!server.peer) { m.proc = startAgent(server, { id, interval: 1 }); return; }
    const s = client(server.url);
    await onceEvent(s, 'connect');
    s.emit('clientAuth', server.agentKey);
    let seq = 0;
    const send = (ev) => s.emit(ev, makeSample(id, { cpuLoad: Math.random() * 100,
      memUsage: Math.round(Math.random() * 100) / 100, upTime: 5000 + seq++, cpuLoadPerCore: [10, 20] }));
    send('initPerfData');
    s.timer = setInterval(() => send('perfData'), 1000);
    m.sock = s;
  };
  m.stop = async () => {
    if (m.proc) { await stopProcess(m.proc); m.proc = null; }
    if (m.sock) { clearInterval(m.sock.timer); m.sock.close(); m.sock = null; }
  };
  return m;
}
