// Helpers for tests/integration/security.test.mjs: an appliance started
// without the harness's explicit keys (to see generated keys), a readiness
// wait that speaks TLS, HTTPS GETs with a private CA, a self-signed
// certificate made by openssl, /metrics counters, and socket.io clients
// bound to a chosen loopback source address.
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { bin, client, freePort, onceEvent, startProcess, stopProcess, tmpdir, waitFor } from '../harness.mjs';

/** A self-signed certificate for localhost/127.0.0.1: { cert, key, dir } (file paths). */
export function selfSignedCert() {
  const dir = tmpdir('perfload-tls-');
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1', '-keyout', key, '-out', cert],
  { stdio: 'ignore' });
  return { cert, key, dir };
}

/** GET over HTTPS trusting `ca` (PEM text): resolves { status, headers, body }. */
export function httpsGet(url, ca, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, headers, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on('error', reject);
  });
}

/**
 * perfload-appliance with fresh ports and only the given args (no keys
 * unless the caller passes them). opts: { args, env, stateDir, tls: {cert, key, ca} }.
 * Resolves { port, httpPort, url, httpUrl, proc, stateDir, stop() }.
 */
export async function startBare(opts = {}) {
  const port = await freePort();
  const httpPort = await freePort();
  const stateDir = opts.stateDir || tmpdir('perfload-state-');
  const scheme = opts.tls ? 'https' : 'http';
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--http-port', String(httpPort),
    '--workers', '1', '--state-dir', stateDir, '--mongo', '',
    ...(opts.tls ? ['--tls-cert', opts.tls.cert, '--tls-key', opts.tls.key] : []), ...(opts.args || [])];
  const proc = startProcess(bin('perfload-appliance'), args, { env: { ...process.env, ...(opts.env || {}) } });
  const a = { port, httpPort, url: `${scheme}://127.0.0.1:${port}`, httpUrl: `${scheme}://127.0.0.1:${httpPort}`,
    proc, stateDir, args };
  a.stop = (graceMs) => stopProcess(proc, graceMs);
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error('appliance exited: ' + proc.output());
    if (opts.tls) return (await httpsGet(`${a.url}/socket.io/?EIO=4&transport=polling`, opts.tls.ca)).status === 200;
    const res = await fetch(`${a.url}/socket.io/?EIO=4&transport=polling`);
    await res.arrayBuffer();
    return res.status === 200;
  }, 10000, 'appliance ready');
  return a;
}

/** Sums a /metrics family over its label sets (0 when absent). ca: for an https appliance. */
export async function metric(appliance, name, ca) {
  const text = ca ? (await httpsGet(appliance.httpUrl + '/metrics', ca)).body
    : await (await fetch(appliance.httpUrl + '/metrics')).text();
  const fam = parsePrometheusTextFormat(text).find((f) => f.name === name);
  return fam ? fam.metrics.reduce((s, m) => s + Number(m.value), 0) : 0;
}

/**
 * A websocket-only socket.io client from source address `ip` that records
 * `perfload:error` events (s.errorsSeen) and why it disconnected
 * (s.gone: a promise of the reason). Resolves once connected.
 */
export async function clientFrom(appliance, ip, opts = {}) {
  const s = client(appliance.url, { transports: ['websocket'], localAddress: ip, ...opts });
  s.errorsSeen = [];
  s.on('perfload:error', (e) => s.errorsSeen.push(e));
  s.gone = new Promise((resolve) => s.on('disconnect', resolve));
  await onceEvent(s, 'connect');
  return s;
}

/** clientAuth with an ack: resolves the ack's argument, or 'disconnected: <reason>'. */
export function auth(s, key, timeoutMs = 5000) {
  // socket.io-client rejects a pending ack when the socket goes: then the
  // disconnect reason is the answer.
  return s.timeout(timeoutMs).emitWithAck('clientAuth', key)
    .catch(async (e) => (s.connected ? Promise.reject(e) : `disconnected: ${await s.gone}`));
}
