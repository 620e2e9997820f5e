// Names for user ids: everyone in the caller's groups (whom they can message and see in channels), fetched
// once per session view and kept for offline use like any API answer.
import { useEffect, useState } from 'react';
import { get } from './api.ts';
import type { GroupInfo, MemberInfo } from './api-types.ts';
import { cacheApiAnswer, cachedApiAnswer } from './offline-data.ts';

export interface Person {
  id: string;
  username: string;
  name: string;
}

const CACHE_KEY = 'people';

async function fetchPeople(): Promise<Record<string, Person>> {
  const groups = await get<GroupInfo[]>('/api/groups');
  const lists = await Promise.all(groups.map((g) => get<MemberInfo[]>(`/api/groups/${g.id}/members`)));
  const people: Record<string, Person> = {};
  for (const m of lists.flat()) people[m.user_id] = { id: m.user_id, username: m.username, name: m.display_name ?? m.username };
  return people;
}

let shared: Promise<Record<string, Person>> | null = null;

/** The people the caller shares a group with, by id (the device's copy first, then the server's). */
export function usePeople(): Record<string, Person> {
  const [people, setPeople] = useState<Record<string, Person>>(() => cachedApiAnswer(CACHE_KEY) ?? {});
  useEffect(() => {
    let live = true;
    shared ??= fetchPeople().then((p) => {
      cacheApiAnswer(CACHE_KEY, p);
      return p;
    });
    shared.then((p) => live && setPeople(p), () => (shared = null));
    return () => {
      live = false;
    };
  }, []);
  return people;
}

/** Forget the fetched list (after membership changes), so the next view asks again. */
export function refreshPeople(): void {
  shared = null;
}

export const nameOf = (people: Record<string, Person>, id: string | null | undefined): string =>
  (id && people[id]?.name) ?? (id ? `user ${id.slice(0, 8)}` : 'nobody');
