import { useEffect, useRef, useState } from 'react';
import { LineChart } from './LineChart.jsx';
import { Gauge } from './Gauge.jsx';
import { RANGES, fetchHistory } from '../api.js';
import {
  formatBytes, formatFraction, formatLoadAvg, formatMHz, formatPercent, formatRate,
  formatRelative, formatUptime, level, machineName, clampPercent,
} from '../format.js';

const CPU = { key: 'cpu', cls: 's-cpu', label: 'CPU %', get: (p) => clampPercent(p.cpuLoad) };
const MEM = {
  key: 'mem', cls: 's-mem', label: 'Memory %',
  get: (p) => (Number.isFinite(p.memUsage) ? clampPercent(p.memUsage * 100) : null),
};

/** Extras are pass-through fields of the agent; show the ones we know, generically. */
function Extras({ s }) {
  const rows = [];
  if (s.hostname) rows.push(['Hostname', s.hostname]);
  if (s.kernel) rows.push(['Kernel', s.kernel]);
  if (Array.isArray(s.loadAvg)) rows.push(['Load average', formatLoadAvg(s.loadAvg)]);
  if (Number.isFinite(s.swapTotal)) {
    rows.push(['Swap', `${formatBytes(s.swapUsed)} of ${formatBytes(s.swapTotal)}`]);
  }
  rows.push(['Memory', `${formatBytes(s.usedMem)} used, ${formatBytes(s.freeMem)} free of ${formatBytes(s.totalMem)}`]);
  const net = s.net;
  if (net && typeof net === 'object') {
    const list = Array.isArray(net) ? net : [net];
    for (const n of list) {
      const rx = n.rxBps ?? n.rxBytesPerSec ?? n.rx;
      const tx = n.txBps ?? n.txBytesPerSec ?? n.tx;
      rows.push([`Network${n.iface || n.name ? ` ${n.iface || n.name}` : ''}`,
        `\u2193 ${formatRate(rx)}  \u2191 ${formatRate(tx)}`]);
    }
  }
  if (Array.isArray(s.disks)) {
    for (const d of s.disks) {
      const total = d.total ?? d.size ?? d.totalBytes;
      const used = d.used ?? d.usedBytes;
      rows.push([`Disk ${d.mount || d.path || d.name || ''}`.trim(),
        `${formatBytes(used)} of ${formatBytes(total)}${Number.isFinite(used) && total > 0 ? ` (${formatPercent((used / total) * 100)})` : ''}`]);
    }
  }
  return (
    <dl className="detail-facts">
      {rows.map(([k, v], i) => <div key={i}><dt>{k}</dt><dd>{v}</dd></div>)}
    </dl>
  );
}

function PerCore({ loads }) {
  return (
    <section className="percore" aria-label="Per-core load" data-testid="per-core">
      <h3>Per-core load</h3>
      <ul>
        {loads.map((v, i) => {
          const c = clampPercent(v);
          return (
            <li key={i}>
              <span className="core-id">cpu{i}</span>
              <span className="core-bar" role="meter" aria-label={`Core ${i} load`} aria-valuemin={0}
                aria-valuemax={100} aria-valuenow={c === null ? undefined : Math.round(c)}>
                <span className={`core-fill lv-${level(c)}`} style={{ width: `${c ?? 0}%` }} />
              </span>
              <span className="core-val">{formatPercent(c)}</span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

export function DetailView({ m, uiKey, now, onClose }) {
  const [rangeId, setRangeId] = useState('15m');
  const [hist, setHist] = useState({ state: 'loading', points: [], error: '' });
  const closeRef = useRef(null);
  const dialogRef = useRef(null);
  const range = RANGES.find((r) => r.id === rangeId);
  const mac = m.mac;

  useEffect(() => {
    const prev = document.activeElement;
    closeRef.current && closeRef.current.focus();
    // Escape closes; Tab stays inside the dialog (aria-modal) instead of
    // wandering into the cards behind it.
    const onKey = (e) => {
      if (e.key === 'Escape') { onClose(); return; }
      if (e.key !== 'Tab' || !dialogRef.current) return;
      const f = dialogRef.current.querySelectorAll('button, [href], input, select, [tabindex]:not([tabindex="-1"])');
      if (!f.length) return;
      const first = f[0];
      const last = f[f.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
      else if (!dialogRef.current.contains(document.activeElement)) { e.preventDefault(); first.focus(); }
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      if (prev && prev.focus) prev.focus();
    };
  }, [onClose]);

  useEffect(() => {
    const ctl = new AbortController();
    let timer = null;
    const load = async () => {
      try {
        const points = await fetchHistory(mac, range, uiKey, ctl.signal);
        setHist({ state: 'ok', points, error: '', at: Date.now() });
      } catch (e) {
        if (ctl.signal.aborted) return;
        setHist({ state: 'error', points: [], error: e.message || String(e) });
      }
      // Short ranges follow the live edge; long ones are refreshed less often.
      timer = setTimeout(load, Math.max(5000, range.stepMs));
    };
    setHist((h) => ({ ...h, state: 'loading' }));
    load();
    return () => { ctl.abort(); clearTimeout(timer); };
  }, [mac, rangeId]);

  const s = m.sample;
  const name = machineName(s);
  const to = hist.state === 'ok' ? hist.at : now;
  let points = hist.points;
  let note = '';
  if (hist.state === 'error') {
    // No history API (or it failed): the live samples this page has seen.
    points = m.spark.t.map((ts, i) => ({ ts, cpuLoad: m.spark.cpu[i], memUsage: m.spark.mem[i] === null ? null : m.spark.mem[i] / 100 }));
    note = `History unavailable (${hist.error}); showing live samples received since this page opened.`;
  }
  const gapMs = Math.max(range.stepMs * 3, 10e3);

  return (
    <div className="overlay" onMouseDown={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div className="detail" ref={dialogRef} role="dialog" aria-modal="true" aria-labelledby="detail-title" data-testid="detail-view">
        <header className="detail-head">
          <div>
            <h2 id="detail-title">{name}</h2>
            <div className="card-mac">{mac} · {s.osType || 'unknown OS'} · {m.active ? 'Online' : `Offline, last seen ${formatRelative(m.lastSeen, now)}`}</div>
          </div>
          <button type="button" ref={closeRef} className="btn" onClick={onClose} aria-label="Close details">Close</button>
        </header>
        <div className="detail-top">
          <Gauge label="CPU" value={m.cpu} testid="detail-cpu" size={110} />
          <Gauge label="Memory" value={m.mem} testid="detail-mem" size={110} />
          <dl className="detail-facts">
            <div><dt>CPU model</dt><dd>{s.cpuModel || '\u2014'}</dd></div>
            <div><dt>Cores · clock</dt><dd>{s.numCores ?? '\u2014'} · {formatMHz(s.cpuSpeed)}</dd></div>
            <div><dt>Uptime</dt><dd>{formatUptime(s.upTime)}</dd></div>
            <div><dt>Memory</dt><dd>{formatFraction(s.memUsage)} of {formatBytes(s.totalMem)}</dd></div>
          </dl>
        </div>
        <div className="ranges" role="group" aria-label="History range">
          {RANGES.map((r) => (
            <button key={r.id} type="button" className="btn" aria-pressed={r.id === rangeId}
              data-testid={`range-${r.id}`} onClick={() => setRangeId(r.id)}>{r.label}</button>
          ))}
          <span className="muted" aria-live="polite">
            {hist.state === 'loading' ? 'Loading\u2026' : hist.state === 'ok' ? `${points.length} points` : ''}
          </span>
        </div>
        {note && <p className="note" role="status">{note}</p>}
        <LineChart title="CPU load" testid="history-cpu" points={points} series={[CPU]} from={to - range.ms} to={to} gapMs={gapMs} />
        <LineChart title="Memory usage" testid="history-mem" points={points} series={[MEM]} from={to - range.ms} to={to} gapMs={gapMs} />
        {Array.isArray(s.cpuLoadPerCore) && s.cpuLoadPerCore.length > 0 && <PerCore loads={s.cpuLoadPerCore} />}
        <Extras s={s} />
      </div>
    </div>
  );
}
