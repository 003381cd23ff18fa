import { memo } from 'react';

export const SPARK_MIN_SPAN = 60e3;

/** The time span a sparkline covers: its data, at least a minute, at most windowMs. */
export function sparkSpan(t, windowMs) {
  const n = t.length;
  if (n < 2) return SPARK_MIN_SPAN;
  return Math.min(windowMs, Math.max(SPARK_MIN_SPAN, t[n - 1] - t[0]));
}

/**
 * A tiny line chart of 0–100 series sharing one time axis. `t` are epoch ms;
 * x spans the last sparkSpan() ms, so the first minute draws from the right
 * and the line then widens to fill the card, up to windowMs.
 */
export const Sparkline = memo(function Sparkline({ t, series, windowMs, width = 240, height = 40, label }) {
  const n = t.length;
  const end = n ? t[n - 1] : 0;
  const span = sparkSpan(t, windowMs);
  const start = end - span;
  const x = (ts) => ((ts - start) / span) * width;
  const y = (v) => height - 1 - (v / 100) * (height - 2);
  return (
    <svg className="sparkline" width="100%" height={height} viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="none" role="img" aria-label={label}>
      <line x1="0" x2={width} y1={y(50)} y2={y(50)} className="spark-grid" />
      {n > 1 && series.map((s) => {
        let d = '';
        for (let i = 0; i < n; i++) {
          const v = s.values[i];
          if (t[i] < start) continue;
          if (v === null || v === undefined) continue;
          d += `${d ? 'L' : 'M'}${x(t[i]).toFixed(1)},${y(v).toFixed(1)}`;
        }
        return <path key={s.key} d={d} className={`spark-line ${s.cls}`} fill="none" vectorEffect="non-scaling-stroke" />;
      })}
    </svg>
  );
});
