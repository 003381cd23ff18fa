import { useLayoutEffect, useRef, useState } from 'react';

/**
 * A windowed card grid: cards have a fixed height, the column count follows
 * the width, and only the rows near the viewport are in the DOM (page scroll,
 * no inner scrollbar). 500 machines cost as much as the ~30 on screen.
 */
export function Grid({ items, minWidth, rowHeight, gap, overscan = 2, render }) {
  const ref = useRef(null);
  const [win, setWin] = useState({ cols: 1, first: 0, last: 8 });
  const count = items.length;

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    let frame = 0;
    const compute = () => {
      frame = 0;
      const width = el.clientWidth;
      const cols = Math.max(1, Math.floor((width + gap) / (minWidth + gap)));
      const stride = rowHeight + gap;
      const top = el.getBoundingClientRect().top;
      const first = Math.max(0, Math.floor(-top / stride) - overscan);
      const last = Math.max(first, Math.ceil((window.innerHeight - top) / stride) + overscan);
      setWin((w) => (w.cols === cols && w.first === first && w.last === last ? w : { cols, first, last }));
    };
    const schedule = () => { if (!frame) frame = requestAnimationFrame(compute); };
    compute();
    window.addEventListener('scroll', schedule, { passive: true });
    window.addEventListener('resize', schedule);
    const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(schedule) : null;
    if (ro) ro.observe(el);
    return () => {
      window.removeEventListener('scroll', schedule);
      window.removeEventListener('resize', schedule);
      if (ro) ro.disconnect();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [minWidth, rowHeight, gap, overscan, count]);

  const { cols } = win;
  const rows = Math.ceil(count / cols);
  const stride = rowHeight + gap;
  const first = Math.min(win.first, Math.max(0, rows - 1));
  const last = Math.min(win.last, rows - 1);
  const slice = items.slice(first * cols, (last + 1) * cols);
  return (
    <div ref={ref} className="grid-outer" style={{ height: rows > 0 ? rows * stride - gap : 0 }}
      data-testid="grid" data-total={count}>
      <div className="grid" role="list" aria-label="Machines"
        style={{ transform: `translateY(${first * stride}px)`, gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))`,
          gridAutoRows: `${rowHeight}px`, gap: `${gap}px` }}>
        {slice.map((it) => <div role="listitem" key={it.mac} className="grid-cell">{render(it)}</div>)}
      </div>
    </div>
  );
}
