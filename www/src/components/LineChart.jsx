import { formatClock } from '../format.js';

const W = 640;
const H = 180;
const PAD = { l: 40, r: 10, t: 10, b: 24 };

/**
 * History chart: one or more 0–100 series over [from, to]. Gaps longer than
 * gapMs (agent offline) break the line instead of drawing a false ramp.
 */
export function LineChart({ points, series, from, to, gapMs, title, testid }) {
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const span = Math.max(1, to - from);
  const x = (ts) => PAD.l + ((ts - from) / span) * iw;
  const y = (v) => PAD.t + ih - (Math.min(100, Math.max(0, v)) / 100) * ih;
  const withDay = span > 36 * 3600e3;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => from + f * span);
  return (
    <figure className="chart" data-testid={testid}>
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img"
        aria-label={`${title}: ${points.length} points`}>
        {[0, 25, 50, 75, 100].map((v) => (
          <g key={v}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} className="chart-grid" />
            <text x={PAD.l - 6} y={y(v) + 4} textAnchor="end" className="chart-axis">{v}%</text>
          </g>
        ))}
        {ticks.map((ts, i) => (
          <text key={i} x={x(ts)} y={H - 6} textAnchor={i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}
            className="chart-axis">{formatClock(ts, withDay)}</text>
        ))}
        {series.map((s) => {
          let d = '';
          let prevTs = null;
          for (const p of points) {
            const v = s.get(p);
            if (v === null || v === undefined || !Number.isFinite(v)) { prevTs = null; continue; }
            const move = prevTs === null || p.ts - prevTs > gapMs;
            d += `${move ? 'M' : 'L'}${x(p.ts).toFixed(1)},${y(v).toFixed(1)}`;
            prevTs = p.ts;
          }
          return <path key={s.key} d={d} className={`chart-line ${s.cls}`} fill="none" />;
        })}
      </svg>
      <div className="chart-legend">
        {series.map((s) => <span key={s.key} className={`legend ${s.cls}`}>{s.label}</span>)}
      </div>
    </figure>
  );
}
