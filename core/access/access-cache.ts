import { LRUCache } from 'lru-cache';
import { findSessionUser, type SessionUser } from '../auth/users.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { Role } from './access.ts';

export interface GroupView {
  id: string;
  name: string;
  description: string;
  created_by: string | null;
  created_at: Date;
  /** The viewing user's role. */
  role: Role;
}

/**
 * Who a user is and which groups they are in: read on nearly every request, changed rarely. Entries are dropped
 * when the database announces a change (`access_changed`, sent by triggers at commit, so changes made by other
 * instances or by hand are seen too); while that announcement channel is down, nothing is cached.
 */
export interface AccessCache {
  user(id: string): Promise<SessionUser | undefined>;
  /** The user's groups with their role in each, oldest first. */
  groups(userId: string): Promise<readonly GroupView[]>;
  /**
   * Drops entries for a change this instance just committed, so its next read sees it without waiting for the
   * notification. `change` is "user:<id>", "member:<user id>", "group:<id>" or "channel:<id>".
   */
  invalidate(change: string): void;
  /**
   * Calls `listener` after every change this instance hears of, its own included, with the change's
   * "kind:id"; after a gap in notifications, with "*" (anything may have changed). Returns the unsubscribe.
   */
  onChange(listener: (change: string) => void): () => void;
  stop(): Promise<void>;
}

export const ACCESS_CHANNEL = 'access_changed';

export async function createAccessCache(database: Database, log: Logger, maxEntries = 10_000): Promise<AccessCache> {
  // The TTL only bounds the damage of a notification lost in a way no one noticed; notifications do the work.
  const users = new LRUCache<string, SessionUser>({ max: maxEntries, ttl: 5 * 60_000 });
  const groupLists = new LRUCache<string, GroupView[]>({ max: maxEntries, ttl: 5 * 60_000 });
  let listening = false;
  // Bumped by every invalidation: a load that overlapped one may hold stale rows and is not stored.
  let generation = 0;
  const listeners = new Set<(change: string) => void>();
  const announce = (change: string) => {
    for (const listener of listeners) listener(change);
  };

  const invalidate = (change: string) => {
    generation++;
    const [kind, id = ''] = change.split(':', 2);
    if (kind === 'user') users.delete(id);
    else if (kind === 'member') groupLists.delete(id);
    else if (kind === 'group') groupLists.clear();
    // A channel archived, unarchived or deleted: nothing cached here, but open connections follow it.
    else if (kind !== 'channel') log.warn({ change }, 'unknown access change');
    announce(change);
  };

  async function cached<V extends {}>(cache: LRUCache<string, V>, key: string, load: () => Promise<V | undefined>) {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const started = generation;
    const value = await load();
    if (value !== undefined && listening && started === generation) cache.set(key, value);
    return value;
  }

  const stop = await database.subscribe(ACCESS_CHANNEL, {
    message: invalidate,
    gap(nowListening) {
      generation++;
      users.clear();
      groupLists.clear();
      listening = nowListening;
      if (!nowListening) log.warn('access cache off until change notifications resume');
      announce('*');
    },
  });

  return {
    user: (id) => cached(users, id, () => findSessionUser(database.pool, id)),
    groups: async (userId) =>
      (await cached(groupLists, userId, async () => {
        const { rows } = await database.pool.query<GroupView>(
          `SELECT g.id, g.name, g.description, g.created_by, g.created_at, m.role
             FROM memberships m JOIN groups g ON g.id = m.group_id
            WHERE m.user_id = $1 ORDER BY g.created_at, g.id`,
          [userId],
        );
        return rows;
      }))!,
    invalidate,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop,
  };
}
