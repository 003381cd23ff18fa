// Shared integration-test harness: real binaries, a real redis-server on a
// free loopback port, the real socket.io-client. Every process started here is
// registered and killed by cleanup(), so a failing test leaves nothing behind.
// Add helpers for your own area in tests/integration/lib/<area>.mjs.
import { spawn } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BUILD = process.env.PERFLOAD_BUILD || path.join(ROOT, 'build');
export const bin = (name) => path.join(BUILD, name);

const children = new Set();
const sockets = new Set();
const tmpdirs = [];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function tmpdir(prefix = 'perfload-test-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpdirs.push(d);
  return d;
}

export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, host, () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** Polls fn until it returns a truthy value (or resolves to one); throws with msg after timeoutMs. */
export async function waitFor(fn, timeoutMs = 5000, msg = 'condition', stepMs = 25) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < timeoutMs) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await sleep(stepMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${msg} (last: ${last})`);
}

/** Starts a process, captures its output (proc.output()), registers it for cleanup. */
export function startProcess(cmd, args, opts = {}) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; if (process.env.PERFLOAD_TEST_VERBOSE) process.stderr.write(d); });
  proc.stderr.on('data', (d) => { out += d; if (process.env.PERFLOAD_TEST_VERBOSE) process.stderr.write(d); });
  proc.output = () => out;
  proc.exited = new Promise((resolve) => proc.on('exit', (code, signal) => { children.delete(proc); resolve({ code, signal }); }));
  children.add(proc);
  return proc;
}

/** Stops a process with SIGTERM, then SIGKILL after graceMs; resolves {code, signal}. */
export async function stopProcess(proc, graceMs = 5000) {
  if (proc.exitCode !== null || proc.signalCode !== null) return { code: proc.exitCode, signal: proc.signalCode };
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  const r = await proc.exited;
  clearTimeout(t);
  return r;
}

function tcpOpen(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const c = net.connect(port, host);
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

/** A private redis-server on a free port. { port, url, proc, stop(), kill(), restart() } */
export async function startRedis() {
  const port = await freePort();
  const dir = tmpdir('perfload-redis-');
  const r = { port, url: `redis://127.0.0.1:${port}` };
  r.start = async () => {
    r.proc = startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no', '--dir', dir]);
    await waitFor(() => tcpOpen(port), 5000, `redis on ${port}`);
  };
  r.stop = () => stopProcess(r.proc);
  r.kill = async () => { r.proc.kill('SIGKILL'); await r.proc.exited; };
  r.restart = async () => { await r.start(); };
  await r.start();
  return r;
}

async function httpOk(url) {
  try { const res = await fetch(url); await res.arrayBuffer(); return res.status === 200; } catch { return false; }
}

/**
 * Starts perfload-appliance with fresh ports and explicit keys.
 * opts: { workers=1, redisUrl, mongoUrl='', env={}, args=[], agentKey, uiKey }
 * Returns { port, httpPort, url, httpUrl, agentKey, uiKey, proc, stop() }.
 */
export async function startAppliance(opts = {}) {
  const port = opts.port || await freePort();
  const httpPort = opts.httpPort || await freePort();
  const agentKey = opts.agentKey || 'test-agent-key-' + Math.random().toString(16).slice(2);
  const uiKey = opts.uiKey || 'test-ui-key-' + Math.random().toString(16).slice(2);
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--http-port', String(httpPort),
    '--workers', String(opts.workers || 1), '--agent-key', agentKey, '--ui-key', uiKey,
    '--state-dir', opts.stateDir || tmpdir('perfload-state-'),
    ...(opts.redisUrl ? ['--redis', opts.redisUrl] : []),
    '--mongo', opts.mongoUrl || '',
    ...(opts.args || [])];
  const proc = startProcess(bin('perfload-appliance'), args, { env: { ...process.env, ...(opts.env || {}) } });
  const a = { port, httpPort, url: `http://127.0.0.1:${port}`, httpUrl: `http://127.0.0.1:${httpPort}`,
    agentKey, uiKey, proc, args };
  a.stop = (graceMs) => stopProcess(proc, graceMs);
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error('appliance exited: ' + proc.output());
    return httpOk(`${a.url}/socket.io/?EIO=4&transport=polling`);
  }, 10000, 'appliance ready');
  return a;
}

/** Starts perfload-agent against an appliance. opts: { id, interval, args, env } */
export function startAgent(appliance, opts = {}) {
  const args = ['--server', appliance.url, '--key', opts.key || appliance.agentKey,
    ...(opts.id ? ['--id', opts.id] : []), ...(opts.interval ? ['--interval', String(opts.interval)] : []),
    ...(opts.args || [])];
  return startProcess(bin('perfload-agent'), args, { env: { ...process.env, ...(opts.env || {}) } });
}

/** A real socket.io-client, registered for cleanup. */
export function client(url, opts = {}) {
  const s = io(url, { reconnection: false, forceNew: true, timeout: 5000, ...opts });
  sockets.add(s);
  return s;
}

export function onceEvent(emitter, ev, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${ev}' within ${timeoutMs} ms`)), timeoutMs);
    emitter.once(ev, (...a) => { clearTimeout(t); resolve(a.length > 1 ? a : a[0]); });
  });
}

/** A dashboard-like client: connects, authenticates with the UI key, records every `data`. */
export async function connectUi(appliance, opts = {}) {
  const s = client(appliance.url, opts);
  s.received = [];
  s.on('data', (d) => s.received.push({ at: Date.now(), data: d }));
  await onceEvent(s, 'connect');
  s.emit('clientAuth', opts.key || appliance.uiKey);
  return s;
}

/** An agent-like socket.io client: authenticates with the agent key and sends samples on demand. */
export async function connectFakeAgent(appliance, opts = {}) {
  const s = client(appliance.url, opts);
  await onceEvent(s, 'connect');
  s.emit('clientAuth', opts.key || appliance.agentKey);
  return s;
}

/** A valid sample per DESIGN.md §3. */
export function makeSample(macA, over = {}) {
  return { macA, freeMem: 4e9, totalMem: 8e9, usedMem: 4e9, memUsage: 0.5, osType: 'Linux',
    upTime: 1234, cpuModel: 'Test CPU', numCores: 4, cpuSpeed: 2400, cpuLoad: 12.5, isActive: true, ...over };
}

export async function cleanup() {
  for (const s of sockets) { try { s.close(); } catch {} }
  sockets.clear();
  await Promise.all([...children].map((p) => stopProcess(p, 2000)));
  for (const d of tmpdirs.splice(0)) { try { fs.rmSync(d, { recursive: true, force: true }); } catch {} }
}
