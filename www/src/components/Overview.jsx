import { formatPercent } from '../format.js';

export const SORTS = [
  { id: 'name', label: 'Name' },
  { id: 'cpu', label: 'CPU (high first)' },
  { id: 'mem', label: 'Memory (high first)' },
  { id: 'status', label: 'Status (online first)' },
];

export function Overview({ sum, query, setQuery, sort, setSort, show, setShow, shown }) {
  return (
    <section className="overview" aria-label="Fleet overview" data-testid="overview">
      <div className="stats">
        <div className="stat"><span className="stat-n" data-testid="count-online">{sum.online}</span><span className="stat-l">online</span></div>
        <div className="stat"><span className="stat-n" data-testid="count-offline">{sum.offline}</span><span className="stat-l">offline</span></div>
        <div className="stat"><span className="stat-n" data-testid="avg-cpu">{formatPercent(sum.avgCpu)}</span><span className="stat-l">avg CPU</span></div>
        <div className="stat"><span className="stat-n" data-testid="avg-mem">{formatPercent(sum.avgMem)}</span><span className="stat-l">avg memory</span></div>
      </div>
      <div className="controls">
        <label className="ctl">
          <span>Search</span>
          <input type="search" value={query} placeholder="name, MAC or OS" data-testid="search"
            onChange={(e) => setQuery(e.target.value)} />
        </label>
        <label className="ctl">
          <span>Sort</span>
          <select value={sort} onChange={(e) => setSort(e.target.value)} data-testid="sort">
            {SORTS.map((s) => <option key={s.id} value={s.id}>{s.label}</option>)}
          </select>
        </label>
        <label className="ctl">
          <span>Show</span>
          <select value={show} onChange={(e) => setShow(e.target.value)} data-testid="show">
            <option value="all">All</option>
            <option value="online">Online</option>
            <option value="offline">Offline</option>
          </select>
        </label>
        <span className="muted" aria-live="polite" data-testid="shown-count">{shown} of {sum.total} shown</span>
      </div>
    </section>
  );
}
