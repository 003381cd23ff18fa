import { memo, useEffect } from 'react';
import { Gauge } from './Gauge.jsx';
import { Sparkline, sparkSpan } from './Sparkline.jsx';
import { SPARK_MS } from '../store.js';
import { formatUptime, formatMHz, formatRelative, machineName } from '../format.js';

/**
 * One machine. Re-renders only when its machine object (replaced per sample)
 * or the one-second clock changes. The name is a button: Enter/Space opens
 * the detail view.
 */
export const MachineCard = memo(function MachineCard({ m, now, onOpen, onShown }) {
  const s = m.sample;
  // Mounted = scrolled into view (the grid is windowed): time to fetch its recent history.
  useEffect(() => { if (onShown && !m.seeded) onShown(m.mac); }, [m.mac, m.seeded, onShown]);
  const spanMin = Math.round(sparkSpan(m.spark.t, SPARK_MS) / 60e3);
  const name = machineName(s);
  const cores = Number.isFinite(s.numCores) ? s.numCores : '\u2014';
  return (
    <article className={`card ${m.active ? 'online' : 'offline'}`} data-testid="machine-card"
      data-mac={m.mac} data-status={m.active ? 'online' : 'offline'} aria-label={`Machine ${name}`}>
      <header className="card-head">
        <button type="button" className="card-name" onClick={() => onOpen(m.mac)}
          title={`Details of ${name}`} data-testid="card-open">
          {name}
        </button>
        <span className={`badge ${m.active ? 'badge-online' : 'badge-offline'}`} data-testid="status-badge">
          {m.active ? 'Online' : 'Offline'}
        </span>
      </header>
      {name !== m.mac && <div className="card-mac">{m.mac}</div>}
      <div className="card-gauges">
        <Gauge label="CPU" value={m.cpu} testid="cpu-gauge" />
        <Gauge label="Memory" value={m.mem} testid="mem-gauge" />
      </div>
      <dl className="facts">
        <div><dt>OS</dt><dd data-testid="os">{s.osType || '\u2014'}</dd></div>
        <div><dt>Uptime</dt><dd data-testid="uptime">{formatUptime(s.upTime)}</dd></div>
        <div className="wide"><dt>CPU</dt><dd data-testid="cpu-model" title={s.cpuModel}>{s.cpuModel || '\u2014'}</dd></div>
        <div><dt>Cores</dt><dd data-testid="cores">{cores}</dd></div>
        <div><dt>Clock</dt><dd data-testid="clock">{formatMHz(s.cpuSpeed)}</dd></div>
        <div className="wide"><dt>Last seen</dt>
          <dd data-testid="last-seen">{formatRelative(m.lastSeen, now)}</dd></div>
      </dl>
      <div className="spark-legend" aria-hidden="true"><span className="legend s-cpu">CPU</span><span className="legend s-mem">Memory</span><span>last {spanMin} min</span></div>
      <Sparkline t={m.spark.t} windowMs={SPARK_MS} height={52} label={`CPU and memory, last ${spanMin} minutes, ${name}`}
        series={[{ key: 'cpu', cls: 's-cpu', values: m.spark.cpu }, { key: 'mem', cls: 's-mem', values: m.spark.mem }]} />
    </article>
  );
});
