// Where the socket server is, the UI key, and the Socket.IO link to it.
// The key lives only in this browser's localStorage (never in the built JS);
// the appliance answers a wrong key with a server-side disconnect, which we
// show as "key refused" and ask again instead of silently retrying.

import { io } from 'socket.io-client';

const KEY_STORAGE = 'perfload.uiKey';
// A server disconnect this soon after clientAuth is the refusal of the key.
const REFUSAL_WINDOW_MS = 4000;

export const DEFAULT_CONFIG = { socketUrl: null, socketPort: 8000, uiKeyRequired: true, version: null };

/** GET /api/config; a server without it (the Node reference) means port 8000, key required. */
export async function loadConfig(fetchImpl = fetch) {
  try {
    const res = await fetchImpl('/api/config', { headers: { Accept: 'application/json' } });
    if (!res.ok) return { ...DEFAULT_CONFIG, fallback: true };
    const cfg = await res.json();
    if (!cfg || typeof cfg !== 'object') return { ...DEFAULT_CONFIG, fallback: true };
    return { ...DEFAULT_CONFIG, ...cfg };
  } catch {
    return { ...DEFAULT_CONFIG, fallback: true };
  }
}

export function socketUrlOf(cfg, loc = window.location) {
  if (cfg.socketUrl) return cfg.socketUrl;
  const port = Number(cfg.socketPort) || 8000;
  const host = loc.hostname.includes(':') ? `[${loc.hostname}]` : loc.hostname;
  return `${loc.protocol}//${host}:${port}`;
}

export function storedKey() {
  try { return localStorage.getItem(KEY_STORAGE) || ''; } catch { return ''; }
}
export function storeKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key); else localStorage.removeItem(KEY_STORAGE);
  } catch { /* private mode: the key lasts for this page only */ }
}

/**
 * The connection as a tiny observable state machine:
 *   status: 'connecting' | 'authenticating' | 'connected' | 'reconnecting' | 'refused'
 * onData(sample) receives every `data` event; verifyKey() (optional) resolves
 * 'ok' | 'refused' | 'unknown' from the HTTP API.
 */
export function createConnection({ url, key, onData, verifyKey }) {
  let state = { status: 'connecting', detail: '', attempts: 0, since: Date.now() };
  const listeners = new Set();
  let authAt = 0;
  let dataSinceAuth = false;
  let closed = false;
  let retryTimer = null;

  const set = (patch) => {
    state = { ...state, ...patch, since: patch.status && patch.status !== state.status ? Date.now() : state.since };
    for (const l of listeners) l();
  };

  const socket = io(url, { reconnection: true, reconnectionDelay: 500, reconnectionDelayMax: 5000 });

  let authTimer = null;
  // Accepted = the server acked clientAuth, or a `data` arrived, or 1.5 s passed
  // without a disconnect (a server that does not ack, with an empty fleet).
  const accepted = () => {
    clearTimeout(authTimer);
    if (state.status === 'authenticating') set({ status: 'connected', detail: '' });
  };
  socket.on('connect', () => {
    authAt = Date.now();
    dataSinceAuth = false;
    // The appliance acks {ok:true} for an accepted key (the Node reference
    // does not ack at all; then the data/timer rule below decides).
    socket.emit('clientAuth', key || '', (res) => { if (res && res.ok === true) accepted(); });
    set({ status: 'authenticating', detail: '', attempts: 0 });
    clearTimeout(authTimer);
    authTimer = setTimeout(accepted, 1500);
  });
  socket.on('data', (sample) => {
    dataSinceAuth = true;
    if (state.status === 'authenticating') accepted();
    onData(sample);
  });
  // A server disconnect is either the refusal of the key or the server
  // stopping (it says goodbye the same way). Ask the HTTP API when we can
  // (401 = refused); otherwise a disconnect right after clientAuth with no
  // `data` in between is the refusal (a valid key gets the fleet at once).
  const retry = (detail) => {
    set({ status: 'reconnecting', detail });
    retryTimer = setTimeout(() => { if (!closed) socket.connect(); }, 1000);
  };
  socket.on('disconnect', (reason) => {
    clearTimeout(authTimer);
    if (closed) return;
    if (reason !== 'io server disconnect') { set({ status: 'reconnecting', detail: reason }); return; }
    const suspicious = !dataSinceAuth && Date.now() - authAt < REFUSAL_WINDOW_MS;
    const check = verifyKey ? verifyKey().catch(() => 'unknown') : Promise.resolve('unknown');
    check.then((verdict) => {
      if (closed) return;
      if (verdict === 'refused' || (verdict === 'unknown' && suspicious)) {
        set({ status: 'refused', detail: 'The server refused this UI key.' });
      } else {
        // Not a refusal (a stopping or restarting server): socket.io does not retry this by itself.
        retry('The server closed the connection.');
      }
    });
  });
  socket.on('connect_error', (err) => {
    set({ status: 'reconnecting', detail: err && err.message ? err.message : 'connection failed' });
  });
  socket.io.on('reconnect_attempt', (n) => set({ attempts: n }));

  return {
    socket,
    getState: () => state,
    subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); },
    close() {
      closed = true;
      clearTimeout(retryTimer);
      clearTimeout(authTimer);
      socket.removeAllListeners();
      socket.io.removeAllListeners();
      socket.close();
    },
  };
}
