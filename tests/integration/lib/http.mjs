// Helpers for the HTTP side (:8001): exact-bytes requests (no client-side
// path normalisation), keep-alive requests, a fake built dashboard, and the
// API with the UI key.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { tmpdir } from '../harness.mjs';

/**
 * Sends `GET <target>` exactly as given (fetch and http.get would resolve
 * "..", this does not) and resolves { status, headers, body } from the raw
 * response. Connection: close, so the body is whatever arrives before EOF.
 */
export function rawGet(port, target, headers = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks = [];
    s.setTimeout(5000, () => { s.destroy(); reject(new Error(`raw GET ${target}: timeout`)); });
    s.on('connect', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`);
    });
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [head, ...rest] = text.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const hdrs = {};
      for (const l of lines.slice(1)) { const i = l.indexOf(':'); hdrs[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim(); }
      resolve({ status, headers: hdrs, body: rest.join('\r\n\r\n') });
    });
  });
}

/** A GET through node:http: resolves { status, headers, body: Buffer, reusedSocket }. */
export function get(url, { headers = {}, agent } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
        body: Buffer.concat(chunks), reusedSocket: req.reusedSocket }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error(`GET ${url}: timeout`)));
  });
}

/** GET an API path with the appliance's UI key; resolves { status, json }. */
export async function api(appliance, p, key = appliance.uiKey) {
  const res = await fetch(appliance.httpUrl + p, { headers: key ? { Authorization: `Bearer ${key}` } : {} });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON: leave null */ }
  return { status: res.status, json, headers: res.headers, text };
}

/**
 * A stand-in for a built dashboard (www/dist): index.html, a hashed JS
 * asset big enough to gzip, a CSS file, an SVG, a PNG; a secret file
 * outside the root and a symlink pointing at it; a dotfile.
 */
export function makeWww() {
  const base = tmpdir('perfload-www-');
  const root = path.join(base, 'dist');
  fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
  const files = {
    index: '<!doctype html><html><head><title>PerfLoad</title></head><body><div id="root"></div>'
      + '<script type="module" src="/assets/index-3f9a1c2b.js"></script></body></html>\n',
    js: 'export function hello(name) { return `hello ${name}`; }\n'.repeat(400),
    css: 'body { margin: 0; font-family: system-ui; }\n'.repeat(50),
    svg: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>\n',
    png: Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'),
    secret: 'TOP-SECRET-OUTSIDE-THE-ROOT\n',
  };
  fs.writeFileSync(path.join(root, 'index.html'), files.index);
  fs.writeFileSync(path.join(root, 'assets/index-3f9a1c2b.js'), files.js);
  fs.writeFileSync(path.join(root, 'assets/index-77aa00ff.css'), files.css);
  fs.writeFileSync(path.join(root, 'favicon.svg'), files.svg);
  fs.writeFileSync(path.join(root, 'logo.png'), files.png);
  fs.writeFileSync(path.join(root, '.env'), files.secret);
  fs.writeFileSync(path.join(base, 'secret.txt'), files.secret);
  fs.symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'leak.txt'));
  fs.symlinkSync(base, path.join(root, 'up'));
  return { root, base, files };
}
