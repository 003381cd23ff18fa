// Helpers for tests/integration/protocol.test.mjs: the conformance server on
// a free port, and raw Engine.IO clients (plain WebSocket, HTTP polling, TCP)
// for the things a well-behaved socket.io-client never does.
import net from 'node:net';
import WebSocket from 'ws';
import { bin, freePort, startProcess, waitFor, sleep } from '../harness.mjs';

/** Starts build/conformance-server; opts.args are extra flags. */
export async function startConformance(opts = {}) {
  const port = await freePort();
  const proc = startProcess(bin('conformance-server'),
    ['--port', String(port), '--bind', '127.0.0.1', '--quiet', ...(opts.args || [])]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error('conformance-server exited: ' + proc.output());
    try {
      const r = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
      await r.text();
      return r.status === 200;
    } catch { return false; }
  }, 10000, 'conformance-server ready');
  return { port, url, wsUrl: `ws://127.0.0.1:${port}`, proc };
}

/**
 * A raw WebSocket Engine.IO session. Collects every message in .messages and
 * resolves .closed with {code, at} when the connection ends.
 */
export function rawWs(server, path = '/socket.io/?EIO=4&transport=websocket') {
  const ws = new WebSocket(server.wsUrl + path);
  ws.messages = [];
  ws.on('message', (data, isBinary) => ws.messages.push(isBinary ? data : data.toString()));
  ws.on('error', () => {});
  ws.closed = new Promise((resolve) => ws.on('close', (code) => resolve({ code, at: Date.now() })));
  ws.opened = new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('close', () => reject(new Error('closed before open'))); });
  ws.opened.catch(() => {});
  /** Resolves with the first collected message matching pred (string prefix or function). */
  ws.next = (pred, timeoutMs = 3000) => waitFor(() => ws.messages.find(
    typeof pred === 'string' ? (m) => typeof m === 'string' && m.startsWith(pred) : pred), timeoutMs, `message ${pred}`);
  return ws;
}

/** Opens a raw WebSocket session and connects to namespace "/". */
export async function rawSocketIo(server) {
  const ws = rawWs(server);
  await ws.next('0{');
  ws.send('40');
  await ws.next('40{');
  return ws;
}

/** Opens a polling session; returns its sid. */
export async function pollingHandshake(server, path = '/socket.io/') {
  const r = await fetch(`${server.url}${path}?EIO=4&transport=polling`);
  const text = await r.text();
  if (r.status !== 200 || text[0] !== '0') throw new Error(`handshake failed: ${r.status} ${text}`);
  return JSON.parse(text.slice(1)).sid;
}

export function pollUrl(server, sid, path = '/socket.io/') {
  return `${server.url}${path}?EIO=4&transport=polling&sid=${sid}`;
}

/** Sends bytes on a plain TCP connection; resolves when the server closes it (or after timeoutMs). */
export function tcpSend(port, bytes, timeoutMs = 3000) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    const t = setTimeout(() => { c.destroy(); resolve({ closed: false, data: got }); }, timeoutMs);
    c.on('connect', () => c.write(bytes));
    c.on('data', (d) => { got = Buffer.concat([got, d]); });
    c.on('error', () => {});
    c.on('close', () => { clearTimeout(t); resolve({ closed: true, data: got }); });
  });
}

export { sleep };
