// Helpers for tests/integration/agent.test.mjs: the sample schema as a
// validator, host facts to compare the agent against, a self-signed
// certificate and a TLS-terminating proxy in front of the appliance.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

const MAC_RE = /^[0-9A-Za-z:._-]{1,64}$/;
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const isByteCount = (v) => Number.isInteger(v) && v >= 0 && v <= 2 ** 53;

/**
 * Checks a sample against DESIGN.md §3 plus the agent's documented additions
 * (docs/agent.md). Returns a list of problems, empty when the sample is valid.
 */
export function sampleProblems(s) {
  const p = [];
  const need = (cond, msg) => { if (!cond) p.push(msg); };
  need(s && typeof s === 'object' && !Array.isArray(s), 'sample is not an object');
  if (p.length) return p;
  need(typeof s.macA === 'string' && MAC_RE.test(s.macA) && s.macA !== '.' && s.macA !== '..', `macA ${s.macA}`);
  for (const k of ['freeMem', 'totalMem', 'usedMem']) need(isByteCount(s[k]), `${k} ${s[k]}`);
  need(s.totalMem > 0, 'totalMem is 0');
  need(s.freeMem + s.usedMem === s.totalMem, 'freeMem + usedMem != totalMem');
  need(isNum(s.memUsage) && s.memUsage >= 0 && s.memUsage <= 1, `memUsage ${s.memUsage}`);
  need(isNum(s.memUsage) && Math.round(s.memUsage * 100) / 100 === s.memUsage, 'memUsage has more than 2 decimals');
  need(Math.abs(s.memUsage - s.usedMem / s.totalMem) <= 0.005 + 1e-9, 'memUsage != usedMem / totalMem');
  need(s.osType === 'Linux', `osType ${s.osType}`);
  need(Number.isInteger(s.upTime) && s.upTime >= 0, `upTime ${s.upTime}`);
  need(typeof s.cpuModel === 'string' && s.cpuModel.length > 0 && s.cpuModel.length <= 256, `cpuModel ${s.cpuModel}`);
  need(Number.isInteger(s.numCores) && s.numCores >= 1 && s.numCores <= 4096, `numCores ${s.numCores}`);
  need(Number.isInteger(s.cpuSpeed) && s.cpuSpeed >= 0 && s.cpuSpeed <= 1e6, `cpuSpeed ${s.cpuSpeed}`);
  need(isNum(s.cpuLoad) && s.cpuLoad >= 0 && s.cpuLoad <= 100, `cpuLoad ${s.cpuLoad}`);
  need(s.isActive === true, `isActive ${s.isActive}`);
  // additions
  need(Array.isArray(s.cpuLoadPerCore) && s.cpuLoadPerCore.every((v) => isNum(v) && v >= 0 && v <= 100),
    'cpuLoadPerCore');
  need(Array.isArray(s.loadAvg) && s.loadAvg.length === 3 && s.loadAvg.every((v) => isNum(v) && v >= 0), 'loadAvg');
  need(isByteCount(s.swapTotal) && isByteCount(s.swapUsed) && s.swapUsed <= s.swapTotal, 'swap');
  need(Array.isArray(s.disks) && s.disks.every((d) => typeof d.mount === 'string' && d.mount.startsWith('/') &&
    isByteCount(d.total) && isByteCount(d.used) && isByteCount(d.avail) && d.used <= d.total), 'disks');
  need(Array.isArray(s.net) && s.net.every((n) => typeof n.iface === 'string' && n.iface !== 'lo' &&
    isByteCount(n.rxBps) && isByteCount(n.txBps)), 'net');
  need(typeof s.kernel === 'string', 'kernel');
  return p;
}

/** `free -b`: { total, available } of the Mem: line. */
export function freeBytes() {
  const line = execFileSync('free', ['-b'], { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('Mem:'));
  const cols = line.trim().split(/\s+/).map(Number);
  // Mem: total used free shared buff/cache available
  return { total: cols[1], available: cols[6] };
}

export const nproc = () => Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
export const procUptime = () => Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

/** A self-signed certificate for 127.0.0.1 (openssl CLI). { cert, key, certPem, keyPem } */
export function selfSignedCert(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key, certPem: fs.readFileSync(cert), keyPem: fs.readFileSync(key) };
}

/** TLS on `port` in front of a plain TCP server on targetPort (like Caddy/nginx in front of the appliance). */
export function tlsProxy(port, targetPort, { certPem, keyPem }) {
  const conns = new Set();
  const server = tls.createServer({ cert: certPem, key: keyPem }, (client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    conns.add(client); conns.add(upstream);
    client.pipe(upstream); upstream.pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); conns.delete(client); conns.delete(upstream); };
    client.on('error', end); upstream.on('error', end); client.on('close', end); upstream.on('close', end);
  });
  server.on('tlsClientError', () => {});
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({
    port,
    close: () => new Promise((r) => { for (const c of conns) c.destroy(); server.close(() => r()); }),
  })));
}

/** Runs `perfload-agent args` to completion: { code, stdout, stderr }. */
export function runAgentSync(binPath, args, env = {}) {
  try {
    const stdout = execFileSync(binPath, args, { encoding: 'utf8', env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000 });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    return { code: e.status, stdout: e.stdout || '', stderr: e.stderr || '' };
  }
}
