// Pure formatting helpers for the dashboard. No DOM, no React: imported by the
// app and by node --test (tests/integration/www-format.test.mjs), so every
// unit here is the one a user reads on screen.

const DASH = '\u2014';

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

/** Uptime in seconds (DESIGN.md §3: `upTime` is seconds) → "3d 4h", "5h 12m", "7m 3s", "42s". */
export function formatUptime(seconds) {
  if (!isNum(seconds) || seconds < 0) return DASH;
  let s = Math.floor(seconds);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes → binary units with 3 significant digits: 1536 → "1.50 KiB", 8e9 → "7.45 GiB". */
export function formatBytes(bytes) {
  if (!isNum(bytes) || bytes < 0) return DASH;
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) { v /= 1024; u++; }
  if (u === 0) return `${Math.round(v)} B`;
  // Round first, then pick the precision, so 1023.99 KiB never prints as "1024 KiB".
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  let text = v.toFixed(digits);
  if (Number(text) >= 1024 && u < BYTE_UNITS.length - 1) { u++; text = (v / 1024).toFixed(2); }
  return `${text} ${BYTE_UNITS[u]}`;
}

/** Bytes per second → "12.3 MiB/s". */
export function formatRate(bytesPerSec) {
  const b = formatBytes(bytesPerSec);
  return b === DASH ? DASH : `${b}/s`;
}

/** Clock in MHz (`cpuSpeed`) → "800 MHz" or "2.40 GHz"; 0/unknown → "—". */
export function formatMHz(mhz) {
  if (!isNum(mhz) || mhz <= 0) return DASH;
  if (mhz >= 1000) return `${(mhz / 1000).toFixed(2)} GHz`;
  return `${Math.round(mhz)} MHz`;
}

/** Clamps to [0, 100]; non-numbers → null. */
export function clampPercent(v) {
  if (!isNum(v)) return null;
  return Math.min(100, Math.max(0, v));
}

/** A percentage 0–100 (`cpuLoad`) → "42%" (or "4.2%" below 10 with digits=1). */
export function formatPercent(pct, digits = 0) {
  const v = clampPercent(pct);
  if (v === null) return DASH;
  return `${v.toFixed(digits)}%`;
}

/** A fraction 0–1 (`memUsage`) → percent 0–100, or null when unknown. */
export function fractionToPercent(frac) {
  if (!isNum(frac)) return null;
  return clampPercent(frac * 100);
}

/** A fraction 0–1 → "50%". */
export function formatFraction(frac, digits = 0) {
  return formatPercent(fractionToPercent(frac), digits);
}

/** Colour band of a load percentage: the same thresholds for gauges, bars and charts. */
export const LEVEL_WARN = 70;
export const LEVEL_CRIT = 90;
export function level(pct) {
  const v = clampPercent(pct);
  if (v === null) return 'unknown';
  if (v >= LEVEL_CRIT) return 'crit';
  if (v >= LEVEL_WARN) return 'warn';
  return 'ok';
}

/** How long ago `thenMs` was, seen at `nowMs`: "just now", "12 s ago", "3 min ago", "2 h ago", "4 d ago". */
export function formatRelative(thenMs, nowMs = Date.now()) {
  if (!isNum(thenMs) || thenMs <= 0) return 'never';
  const diff = Math.max(0, nowMs - thenMs) / 1000;
  if (diff < 5) return 'just now';
  if (diff < 60) return `${Math.floor(diff)} s ago`;
  if (diff < 3600) return `${Math.floor(diff / 60)} min ago`;
  if (diff < 86400) return `${Math.floor(diff / 3600)} h ago`;
  return `${Math.floor(diff / 86400)} d ago`;
}

/** Clock time for chart axes: "14:05" for short ranges, "Mon 14:05" for multi-day ones. */
export function formatClock(ms, withDay = false) {
  if (!isNum(ms)) return DASH;
  const d = new Date(ms);
  const hh = String(d.getHours()).padStart(2, '0');
  const mm = String(d.getMinutes()).padStart(2, '0');
  if (!withDay) return `${hh}:${mm}`;
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getDay()];
  return `${day} ${hh}:${mm}`;
}

/** Load average triple → "0.52 0.61 0.70". */
export function formatLoadAvg(la) {
  if (!Array.isArray(la) || la.length === 0 || !la.every(isNum)) return DASH;
  return la.slice(0, 3).map((v) => v.toFixed(2)).join(' ');
}

/** The name a person recognises: hostname when the agent sends one, else the macA. */
export function machineName(sample) {
  if (!sample) return '';
  const h = typeof sample.hostname === 'string' ? sample.hostname.trim() : '';
  return h || String(sample.macA ?? '');
}
