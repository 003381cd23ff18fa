// Helpers for tests/integration/cluster.test.mjs: clients bound to chosen
// loopback source addresses (127.0.0.2, 127.0.0.3, ...), so the master sees
// different client IPs on one machine, and probes that ask which worker
// ("<slot>:<pid>" in X-PerfLoad-Worker) serves an address.
import fs from 'node:fs';
import http from 'node:http';
import { client, onceEvent, makeSample } from '../harness.mjs';

/** 127.0.0.<from> .. 127.0.0.<to> */
export function loopbackRange(from, to) {
  const ips = [];
  for (let i = from; i <= to; i++) ips.push(`127.0.0.${i}`);
  return ips;
}

/** An http.Agent whose every connection leaves from `ip`. keepAlive off: each
 * long-polling request is a new TCP connection, routed by the master afresh. */
export function agentFrom(ip) {
  return new http.Agent({ localAddress: ip, keepAlive: false });
}

/** One Engine.IO handshake from `ip`; resolves { slot, pid, status }. */
export function probeWorker(appliance, ip) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: appliance.port, localAddress: ip, agent: false,
      path: '/socket.io/?EIO=4&transport=polling', timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => {
        const w = String(res.headers['x-perfload-worker'] || '');
        const [slot, pid] = w.split(':').map(Number);
        resolve({ slot, pid, status: res.statusCode, header: w });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`probe from ${ip} timed out`)));
    req.on('error', reject);
  });
}

/** A socket.io client leaving from `ip` (polling only unless opts.transports says otherwise). */
export function clientFrom(appliance, ip, opts = {}) {
  return client(appliance.url, { transports: ['polling'], agent: agentFrom(ip), ...opts });
}

/**
 * A fake agent from `ip` that (re)authenticates on every connect and sends a
 * perfData every `everyMs`. Records connects/disconnects. Stop with a.stop().
 */
export function agentLoop(appliance, ip, mac, opts = {}) {
  const everyMs = opts.everyMs || 200;
  const s = clientFrom(appliance, ip, { reconnection: true, reconnectionDelay: 100,
    reconnectionDelayMax: 300, ...(opts.clientOpts || {}) });
  s.connects = 0;
  s.disconnects = [];
  s.on('connect', () => {
    s.connects++;
    s.emit('clientAuth', appliance.agentKey);
    s.emit('initPerfData', makeSample(mac));
  });
  s.on('disconnect', (reason) => s.disconnects.push({ at: Date.now(), reason }));
  const timer = setInterval(() => {
    if (s.connected) s.emit('perfData', makeSample(mac, { cpuLoad: Math.round(Math.random() * 100) }));
  }, everyMs);
  s.stop = () => { clearInterval(timer); s.close(); };
  return s;
}

/** A dashboard client from `ip` that records every `data` (with arrival time). */
export async function uiFrom(appliance, ip, opts = {}) {
  const s = clientFrom(appliance, ip, opts);
  s.received = [];
  s.disconnects = [];
  s.on('data', (d) => s.received.push({ at: Date.now(), data: d }));
  s.on('disconnect', (reason) => s.disconnects.push({ at: Date.now(), reason }));
  await onceEvent(s, 'connect');
  s.emit('clientAuth', appliance.uiKey);
  return s;
}

/** true when a process with this pid exists (zombies of other parents included). */
export function pidAlive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

/** true once pid has exited (a zombie awaiting its parent's waitpid counts as exited). */
export function pidExited(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch { return true; }
}
