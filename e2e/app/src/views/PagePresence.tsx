// Who has the page open right now, each in the colour of their caret: the names the server stamped in presence,
// and "you" in the colour this device announces.
import { useEffect, useState } from 'react';
import type { Awareness } from 'y-protocols/awareness';

interface Present {
  clientId: number;
  name: string;
  color: string;
}

type StampedState = { user?: { name?: unknown; color?: unknown } } | null;

function present(awareness: Awareness): Present[] {
  const people: Present[] = [];
  awareness.getStates().forEach((state: StampedState, clientId) => {
    const { name, color } = state?.user ?? {};
    if (clientId !== awareness.clientID && typeof name === 'string') people.push({ clientId, name, color: typeof color === 'string' ? color : 'inherit' });
  });
  return people.sort((a, b) => a.name.localeCompare(b.name));
}

export function PagePresence({ awareness }: { awareness: Awareness | null }) {
  const [others, setOthers] = useState<Present[]>(() => (awareness ? present(awareness) : []));
  useEffect(() => {
    if (!awareness) return;
    const update = () => setOthers(present(awareness));
    update();
    awareness.on('change', update);
    return () => awareness.off('change', update);
  }, [awareness]);
  const myColor = (awareness?.getLocalState() as StampedState)?.user?.color;
  return (
    <p className="page-presence muted" aria-live="polite">
      Here now:{' '}
      <span className="page-person" data-testid="me" style={{ borderColor: typeof myColor === 'string' ? myColor : undefined }}>you</span>
      {others.map((p) => (
        <span key={p.clientId} className="page-person" data-testid="present" style={{ borderColor: p.color }}>{p.name}</span>
      ))}
    </p>
  );
}
