import { useState, useRef, useEffect } from 'react';

/** Asks for the UI key; `refused` says why we ask again. */
export function KeyForm({ refused, onSubmit }) {
  const [key, setKey] = useState('');
  const ref = useRef(null);
  useEffect(() => { ref.current && ref.current.focus(); }, []);
  return (
    <form className="keyform" data-testid="key-form"
      onSubmit={(e) => { e.preventDefault(); if (key.trim()) onSubmit(key.trim()); }}>
      <h2>Dashboard key</h2>
      {refused && (
        <p className="error" role="alert" data-testid="key-refused">
          Key refused: the server did not accept this UI key. Enter the correct one.
        </p>
      )}
      <p className="muted">
        This appliance needs its UI key (printed by <code>perfload-appliance</code> at first start and
        stored in its state directory). It is kept only in this browser.
      </p>
      <label htmlFor="uikey">UI key</label>
      <div className="keyrow">
        <input id="uikey" ref={ref} type="password" autoComplete="current-password" value={key}
          onChange={(e) => setKey(e.target.value)} data-testid="key-input" required />
        <button type="submit" className="btn primary" data-testid="key-submit">Connect</button>
      </div>
    </form>
  );
}
