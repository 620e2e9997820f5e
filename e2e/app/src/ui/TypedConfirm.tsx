// A destructive action that asks the person to type a name first, so it is never one slip of the mouse away.
import { useId, useState } from 'react';

export function TypedConfirm({ what, name, action, onConfirm }: { what: string; name: string; action: string; onConfirm: () => void }) {
  const [typed, setTyped] = useState('');
  const hint = useId();
  return (
    <form className="inline danger" aria-label={action} onSubmit={(e) => {
      e.preventDefault();
      if (typed === name) onConfirm();
    }}>
      <p id={hint} className="muted">This cannot be undone. Type the {what}’s name, <strong>{name}</strong>, to confirm.</p>
      <label className="field">
        <span>Name to confirm</span>
        <input value={typed} onChange={(e) => setTyped(e.target.value)} aria-describedby={hint} autoComplete="off" />
      </label>
      <button type="submit" disabled={typed !== name}>{action}</button>
    </form>
  );
}
