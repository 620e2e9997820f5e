// Names for the authors of a chat: the people of the caller's groups (usePeople), and for anyone else who wrote
// there (the AI assistant, a DM partner, someone who has left, a deleted account: "Deleted user") the server's answer for those ids (GET /api/users),
// which names only users the caller may see. Names always come from the server, never from the document.
import { useEffect, useMemo, useState } from 'react';
import { get } from '../../api.ts';
import { usePeople, type Person } from '../../people.ts';

interface PersonAnswer {
  id: string;
  username: string;
  display_name: string | null;
  is_bot: boolean;
  is_deleted: boolean;
}

/** Ids already asked for in this session (answered or not), so each is asked once. */
const asked = new Set<string>();
const extra: Record<string, Person> = {};
/** Views to show again once names arrive (whichever view asked). */
const listeners = new Set<() => void>();

export function useAuthorNames(authorIds: string[]): Record<string, Person> {
  const people = usePeople();
  const [version, setVersion] = useState(0);
  const missing = useMemo(
    () => [...new Set(authorIds)].filter((id) => !people[id] && !extra[id] && !asked.has(id)).sort(),
    [authorIds, people],
  );
  const key = missing.join(',');
  useEffect(() => {
    const shown = () => setVersion((v) => v + 1);
    listeners.add(shown);
    return () => void listeners.delete(shown);
  }, []);
  useEffect(() => {
    if (!key) return;
    const ids = key.split(',').slice(0, 200);
    ids.forEach((id) => asked.add(id));
    get<PersonAnswer[]>(`/api/users?ids=${ids.join(',')}`).then(
      (answer) => {
        for (const p of answer) extra[p.id] = { id: p.id, username: p.username, name: p.is_deleted ? 'Deleted user' : p.display_name ?? p.username };
        listeners.forEach((l) => l());
      },
      () => ids.forEach((id) => asked.delete(id)),
    );
  }, [key]);
  return useMemo(() => ({ ...extra, ...people }), [people, version]);
}
