// Helpers for tests/integration/faults.test.mjs (and tests/soak/): metrics,
// worker pids and their RSS, agents that number their samples, and raw TCP
// clients that misbehave (half a WebSocket frame, nothing at all, one byte
// at a time).
//
// Run as a script, `node faults.mjs half-frame PORT AGENT_KEY MAC` is an
// agent that authenticates, sends one sample and then half of a WebSocket
// frame, and waits to be killed (the test sends it SIGKILL mid-frame).
import fs from 'node:fs';
import net from 'node:net';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { bin } from '../harness.mjs';

/** true for an ASan build (make asan): its quarantine and shadow memory make RSS say nothing about leaks. */
export function sanitizedBuild() {
  return fs.readFileSync(bin('perfload-appliance')).includes('__asan_init');
}

/** Sums a metric family of the appliance's /metrics over its label sets (0 when absent). */
export async function metric(appliance, name) {
  const text = await (await fetch(appliance.httpUrl + '/metrics')).text();
  const fam = parsePrometheusTextFormat(text).find((f) => f.name === name);
  return fam ? fam.metrics.reduce((s, m) => s + Number(m.value), 0) : 0;
}

/** The pids of the appliance's workers (the master's children). */
export function workerPids(appliance) {
  const pid = appliance.proc.pid;
  const kids = [];
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      kids.push(...fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/)
        .filter(Boolean).map(Number));
    } catch { /* the thread ended meanwhile */ }
  }
  return kids;
}

/** VmRSS of a process in kB (0 when it is gone). */
export function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

/** Sum of the workers' VmRSS in kB. */
export function workersRssKb(appliance) {
  return workerPids(appliance).reduce((s, p) => s + rssKb(p), 0);
}

/**
 * Sends `everyMs` a perfData carrying `seq` (1, 2, ...) on a connected
 * socket.io client; `sent` records { seq, at } of each emit. Extra sample
 * fields pass through the appliance, so a receiver can count what it got.
 */
export function sequencedSender(sock, mac, everyMs, makeSample) {
  const sent = [];
  let seq = 1;
  const timer = setInterval(() => {
    if (!sock.connected) return;
    const at = Date.now();
    sock.emit('perfData', makeSample(mac, { seq, sentAt: at }));
    sent.push({ seq, at });
    seq++;
  }, everyMs);
  return { sent, stop: () => clearInterval(timer) };
}

/** Opens n TCP connections to port spread over source addresses ips; resolves the sockets once all are connected. */
export async function openIdle(port, n, ips) {
  const socks = [];
  const batch = 200;
  for (let i = 0; i < n; i += batch) {
    const part = [];
    for (let k = i; k < Math.min(n, i + batch); k++) {
      part.push(new Promise((resolve, reject) => {
        const c = net.connect({ port, host: '127.0.0.1', localAddress: ips[k % ips.length] });
        c.openedAt = Date.now();
        c.closedAt = 0;
        c.on('connect', () => resolve(c));
        c.on('error', (e) => { if (!c.closedAt) c.err = e; reject(e); });
        c.on('close', () => { c.closedAt = Date.now(); });
        c.on('data', () => {});
      }));
    }
    socks.push(...await Promise.all(part));
  }
  return socks;
}

/** The client-to-server WebSocket frame (masked, FIN, text) carrying text. */
export function wsTextFrame(text) {
  const payload = Buffer.from(text);
  const mask = crypto.randomBytes(4);
  let head;
  if (payload.length < 126) {
    head = Buffer.from([0x81, 0x80 | payload.length]);
  } else {
    head = Buffer.alloc(4);
    head[0] = 0x81; head[1] = 0x80 | 126; head.writeUInt16BE(payload.length, 2);
  }
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([head, mask, body]);
}

/**
 * A raw TCP WebSocket Engine.IO/Socket.IO agent: upgrade, CONNECT, clientAuth,
 * initPerfData. Resolves the socket once the server answered CONNECT.
 */
export function rawWsAgent(port, key, sample) {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let buf = '';
    let stage = 0;
    c.on('error', reject);
    c.on('connect', () => {
      c.write('GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    c.on('data', (d) => {
      buf += d.toString('latin1');
      if (stage === 0 && buf.includes('0{')) {
        stage = 1;
        c.write(wsTextFrame('40'));
      } else if (stage === 1 && buf.includes('40{')) {
        stage = 2;
        c.write(wsTextFrame(`42${JSON.stringify(['clientAuth', key])}`));
        c.write(wsTextFrame(`42${JSON.stringify(['initPerfData', sample])}`));
        resolve(c);
      }
    });
  });
}

async function halfFrameMain(port, key, mac) {
  const sample = { macA: mac, freeMem: 4e9, totalMem: 8e9, usedMem: 4e9, memUsage: 0.5, osType: 'Linux',
    upTime: 1, cpuModel: 'Test CPU', numCores: 4, cpuSpeed: 2400, cpuLoad: 1, isActive: true };
  const c = await rawWsAgent(Number(port), key, sample);
  await new Promise((r) => setTimeout(r, 300));
  const frame = wsTextFrame(`42${JSON.stringify(['perfData', { ...sample, pad: 'x'.repeat(2000) }])}`);
  c.write(frame.subarray(0, frame.length >> 1));
  process.stdout.write('half-frame sent\n');
  setInterval(() => {}, 1000);     // wait for SIGKILL
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2] === 'half-frame') {
  halfFrameMain(process.argv[3], process.argv[4], process.argv[5]).catch((e) => {
    process.stderr.write(`half-frame agent: ${e.message}\n`);
    process.exit(1);
  });
}
