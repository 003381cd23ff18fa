// The appliance's HTTP API (same origin as the dashboard); the UI key doubles
// as the Bearer token. Every reader tolerates a missing API (the Node
// reference has none) by throwing an Error the caller shows as text.

function authHeaders(key) {
  const h = { Accept: 'application/json' };
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

async function getJson(path, key, signal) {
  const res = await fetch(path, { headers: authHeaders(key), signal });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const ct = res.headers.get('content-type') || '';
  if (!ct.includes('json')) throw new Error('not a JSON answer');
  return res.json();
}

/** Timestamps may come as epoch ms, epoch s, or ISO strings; → epoch ms or NaN. */
export function toMs(ts) {
  if (typeof ts === 'number') return ts < 1e11 ? ts * 1000 : ts;
  if (typeof ts === 'string') {
    const n = Number(ts);
    if (Number.isFinite(n) && ts.trim() !== '') return toMs(n);
    return Date.parse(ts);
  }
  if (ts && typeof ts === 'object' && '$date' in ts) return toMs(ts.$date);
  return NaN;
}

/** Chart ranges of the detail view, with the bucket size asked of the server. */
export const RANGES = [
  { id: '15m', label: '15 min', ms: 15 * 60e3, stepMs: 5e3 },
  { id: '1h', label: '1 h', ms: 60 * 60e3, stepMs: 15e3 },
  { id: '24h', label: '24 h', ms: 24 * 3600e3, stepMs: 5 * 60e3 },
  { id: '7d', label: '7 d', ms: 7 * 24 * 3600e3, stepMs: 30 * 60e3 },
];

/** History points [{ts(ms), cpuLoad, memUsage, ...}] oldest first. */
export async function fetchHistory(mac, range, key, signal, now = Date.now()) {
  const since = now - range.ms;
  const q = new URLSearchParams({ since: String(since), until: String(now), step: String(range.stepMs) });
  const body = await getJson(`/api/machines/${encodeURIComponent(mac)}/history?${q}`, key, signal);
  const raw = Array.isArray(body) ? body : (body.points || body.history || body.samples || []);
  return raw
    .map((p) => ({ ...p, ts: toMs(p.ts ?? p.t ?? p.time) }))
    .filter((p) => Number.isFinite(p.ts))
    .sort((a, b) => a.ts - b.ts);
}

/** GET /api/machines → [{macA, lastSeen(ms), ...}] (used for lastSeen of offline machines). */
export async function fetchMachines(key, signal) {
  const body = await getJson('/api/machines', key, signal);
  const raw = Array.isArray(body) ? body : (body.machines || []);
  return raw.map((m) => ({ ...m, lastSeen: toMs(m.lastSeen) })).filter((m) => typeof m.macA === 'string');
}

/** Is `key` the UI key? 'ok' | 'refused' (401/403) | 'unknown' (no API, server down). */
export async function checkKey(key) {
  try {
    const res = await fetch('/api/machines', { headers: authHeaders(key) });
    if (res.status === 401 || res.status === 403) return 'refused';
    const ct = res.headers.get('content-type') || '';
    return res.ok && ct.includes('json') ? 'ok' : 'unknown';
  } catch {
    return 'unknown';
  }
}
