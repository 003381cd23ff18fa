import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { createStore, summarize, SPARK_MS } from './store.js';
import { createConnection, loadConfig, socketUrlOf, storedKey, storeKey } from './connection.js';
import { checkKey, fetchHistory, fetchMachines } from './api.js';
import { machineName } from './format.js';
import { MachineCard } from './components/MachineCard.jsx';
import { DetailView } from './components/DetailView.jsx';
import { KeyForm } from './components/KeyForm.jsx';
import { Overview } from './components/Overview.jsx';
import { Grid } from './components/Grid.jsx';

const CARD_MIN_W = 270;
const CARD_H = 322;
const GAP = 12;

const STATUS_TEXT = {
  loading: 'Loading\u2026',
  connecting: 'Connecting\u2026',
  authenticating: 'Authenticating\u2026',
  connected: 'Connected',
  reconnecting: 'Reconnecting\u2026',
  refused: 'Key refused',
  'need-key': 'Key needed',
};

const noop = () => () => {};
const idle = { status: 'loading', detail: '' };

function useNow(ms) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const t = setInterval(() => setNow(Date.now()), ms); return () => clearInterval(t); }, [ms]);
  return now;
}

function useTheme() {
  const [theme, setTheme] = useState(() => {
    try { return localStorage.getItem('perfload.theme') || 'auto'; } catch { return 'auto'; }
  });
  useEffect(() => {
    const root = document.documentElement;
    if (theme === 'auto') root.removeAttribute('data-theme'); else root.setAttribute('data-theme', theme);
    try { localStorage.setItem('perfload.theme', theme); } catch { /* ignore */ }
  }, [theme]);
  const next = { auto: 'light', light: 'dark', dark: 'auto' }[theme];
  return [theme, () => setTheme(next)];
}

function macFromHash() {
  const m = /^#\/machine\/(.+)$/.exec(window.location.hash);
  if (!m) return null;
  try { return decodeURIComponent(m[1]); } catch { return null; }
}

// One collator for every comparison: localeCompare with options builds a new
// one per call, which at 500 machines x 60 sorts/s was most of the frame.
const collator = new Intl.Collator(undefined, { numeric: true });
const CMP = {
  name: (a, b) => collator.compare(a.name, b.name),
  cpu: (a, b) => (b.m.cpu ?? -1) - (a.m.cpu ?? -1),
  mem: (a, b) => (b.m.mem ?? -1) - (a.m.mem ?? -1),
  status: (a, b) => Number(b.m.active) - Number(a.m.active),
};

export function App() {
  const storeRef = useRef(null);
  if (!storeRef.current) {
    storeRef.current = createStore();
    // Read-only hooks for the e2e load test (update lag per animation frame).
    window.__perfload = { stats: storeRef.current.stats };
  }
  const store = storeRef.current;
  const [cfg, setCfg] = useState(null);
  const [key, setKey] = useState(storedKey);
  const [refused, setRefused] = useState(false);
  const [conn, setConn] = useState(null);
  const [theme, cycleTheme] = useTheme();
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState('name');
  const [show, setShow] = useState('all');
  const [openMac, setOpenMac] = useState(macFromHash);
  const now = useNow(1000);

  useEffect(() => { loadConfig().then(setCfg); }, []);

  const needKey = cfg && cfg.uiKeyRequired !== false && !key;

  useEffect(() => {
    if (!cfg || needKey) return undefined;
    const c = createConnection({ url: socketUrlOf(cfg), key, onData: store.push,
      verifyKey: cfg.fallback ? null : () => checkKey(key) });
    setConn(c);
    const off = c.subscribe(() => {
      if (c.getState().status === 'refused') {
        storeKey('');
        setRefused(true);
        setKey('');
      }
    });
    return () => { off(); c.close(); setConn(null); };
  }, [cfg, key, needKey, store]);

  const connState = useSyncExternalStore(conn ? conn.subscribe : noop, conn ? conn.getState : () => idle);
  const { list } = useSyncExternalStore(store.subscribe, store.getSnapshot);

  // lastSeen of machines that were already offline when the page loaded.
  useEffect(() => {
    if (connState.status !== 'connected' || cfg?.fallback) return undefined;
    const ctl = new AbortController();
    fetchMachines(key, ctl.signal)
      .then((ms) => ms.forEach((m) => { if (Number.isFinite(m.lastSeen)) store.annotate(m.macA, { lastSeen: m.lastSeen }); }))
      .catch(() => { /* no API: offline machines say "last seen never" until they come back */ });
    return () => ctl.abort();
  }, [connState.status, cfg, key, store]);

  useEffect(() => {
    const onHash = () => setOpenMac(macFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const open = useCallback((mac) => { window.location.hash = `#/machine/${encodeURIComponent(mac)}`; }, []);
  const close = useCallback(() => {
    if (window.location.hash) history.pushState('', document.title, window.location.pathname + window.location.search);
    setOpenMac(null);
  }, []);

  // Sparkline seeding: each card asks once when it first appears; at most 3
  // history requests in flight; a server without the API stops the asking.
  const seedRef = useRef({ asked: new Set(), queue: [], inflight: 0, off: false });
  useEffect(() => { seedRef.current.off = !cfg || !!cfg.fallback; }, [cfg]);
  const requestSeed = useCallback((mac) => {
    const q = seedRef.current;
    if (q.off || q.asked.has(mac)) return;
    q.asked.add(mac);
    q.queue.push(mac);
    const pump = () => {
      while (!q.off && q.inflight < 3 && q.queue.length) {
        const next = q.queue.shift();
        q.inflight++;
        fetchHistory(next, { ms: SPARK_MS, stepMs: 1000 }, key)
          .then((pts) => store.seed(next, pts))
          .catch((e) => { if (/HTTP (401|403|404)|JSON/.test(e.message)) q.off = true; })
          .finally(() => { q.inflight--; pump(); });
      }
    };
    pump();
  }, [key, store]);

  const sum = useMemo(() => summarize(list), [list]);
  const shownList = useMemo(() => {
    const q = query.trim().toLowerCase();
    let l = list.map((m) => ({ m, name: machineName(m.sample) }));
    if (show !== 'all') l = l.filter((e) => e.m.active === (show === 'online'));
    if (q) {
      l = l.filter((e) => e.name.toLowerCase().includes(q) || e.m.mac.toLowerCase().includes(q)
        || String(e.m.sample.osType || '').toLowerCase().includes(q));
    }
    const cmp = CMP[sort] || CMP.name;
    return l.sort((a, b) => cmp(a, b) || CMP.name(a, b)).map((e) => e.m);
  }, [list, query, sort, show]);

  const submitKey = (k) => { storeKey(k); setRefused(false); setKey(k); };
  const forgetKey = () => { storeKey(''); setRefused(false); setKey(''); };

  const status = !cfg ? 'loading' : needKey ? (refused ? 'refused' : 'need-key') : connState.status;
  const openM = openMac ? store.get(openMac) : null;
  const renderCard = useCallback((m) => <MachineCard m={m} now={now} onOpen={open} onShown={requestSeed} />,
    [now, open, requestSeed]);

  return (
    <div className="app">
      <header className="topbar">
        <h1>PerfLoad</h1>
        <span className={`conn conn-${status}`} role="status" aria-live="polite" data-testid="conn-status"
          data-status={status} title={connState.detail || ''}>
          <span className="dot" aria-hidden="true" />
          {STATUS_TEXT[status] || status}
          {status === 'reconnecting' && connState.attempts > 0 ? ` (attempt ${connState.attempts})` : ''}
        </span>
        <span className="spacer" />
        {cfg?.version && <span className="muted small">v{cfg.version}</span>}
        {key && <button type="button" className="btn" onClick={forgetKey} data-testid="forget-key">Change key</button>}
        <button type="button" className="btn" onClick={cycleTheme} data-testid="theme-toggle"
          aria-label={`Theme: ${theme}. Switch theme`}>
          Theme: {theme}
        </button>
      </header>
      {status === 'reconnecting' && (
        <div className="banner" role="alert">Lost the connection to the server ({connState.detail}); values below may be stale. Reconnecting…</div>
      )}
      <main>
        {needKey ? (
          <KeyForm refused={refused} onSubmit={submitKey} />
        ) : (
          <>
            <Overview sum={sum} query={query} setQuery={setQuery} sort={sort} setSort={setSort}
              show={show} setShow={setShow} shown={shownList.length} />
            {list.length === 0 && (
              <p className="empty" data-testid="empty">
                {status === 'connected' ? 'No machines yet. Start an agent: perfload-agent --server URL --key AGENT_KEY' : 'Waiting for the server\u2026'}
              </p>
            )}
            <Grid items={shownList} minWidth={CARD_MIN_W} rowHeight={CARD_H} gap={GAP} render={renderCard} />
          </>
        )}
      </main>
      {openM && <DetailView m={openM} uiKey={key} now={now} onClose={close} />}
    </div>
  );
}
