import { memo } from 'react';
import { clampPercent, formatPercent, level } from '../format.js';

const R = 36;
const C = 2 * Math.PI * R;
// A 270° ring, open at the bottom: the value reads like a dial and the number
// sits in the middle in the text colour, so it stays readable on any band.
const ARC = 0.75;

export const Gauge = memo(function Gauge({ label, value, testid, size = 92 }) {
  const v = clampPercent(value);
  const lv = level(v);
  const filled = v === null ? 0 : (v / 100) * C * ARC;
  return (
    <div className="gauge" data-testid={testid} data-level={lv}>
      <svg width={size} height={size} viewBox="0 0 92 92" role="meter"
        aria-label={label} aria-valuemin={0} aria-valuemax={100}
        aria-valuenow={v === null ? undefined : Math.round(v)}
        aria-valuetext={v === null ? 'unknown' : formatPercent(v)}>
        <g transform="rotate(135 46 46)">
          <circle className="gauge-track" cx="46" cy="46" r={R} fill="none" strokeWidth="9"
            strokeDasharray={`${C * ARC} ${C}`} strokeLinecap="round" />
          {v !== null && v > 0 && (
            <circle className={`gauge-fill lv-${lv}`} cx="46" cy="46" r={R} fill="none" strokeWidth="9"
              strokeDasharray={`${filled} ${C}`} strokeLinecap="round" />
          )}
        </g>
        <text x="46" y="50" textAnchor="middle" className="gauge-value" data-testid={testid && `${testid}-value`}>
          {formatPercent(v)}
        </text>
        <text x="46" y="82" textAnchor="middle" className="gauge-label">{label}</text>
      </svg>
    </div>
  );
});
