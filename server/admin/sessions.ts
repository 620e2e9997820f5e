import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../../core/db/database.ts';
import type { Viewer } from './layout.ts';

export interface SessionLimits {
  /** Seconds without a request after which a session ends. */
  idleSeconds: number;
  /** Seconds after login at which a session ends, however busy. */
  maxSeconds: number;
}

const hashOf = (id: string) => createHash('sha256').update(id).digest();
export const randomToken = () => randomBytes(32).toString('base64url');

/** A login: a random session id for the cookie (only its hash is stored) and the session's CSRF token. */
export async function startAdminSession(db: Queryable, userId: string, limits: SessionLimits): Promise<string> {
  const id = randomToken();
  await db.query(
    `INSERT INTO admin_sessions (id_hash, user_id, csrf_token, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [hashOf(id), userId, randomToken(), limits.maxSeconds],
  );
  return id;
}

/**
 * The superuser a session id belongs to, if the session is live (neither idle past the limit nor past its end)
 * and its user is still an active superuser; marks it used. A dead session's row is deleted.
 */
export async function resumeAdminSession(db: Queryable, id: string, limits: SessionLimits): Promise<Viewer | undefined> {
  const { rows: [live] } = await db.query<Viewer>(
    `UPDATE admin_sessions s SET last_seen_at = now() FROM users u
      WHERE s.id_hash = $1 AND u.id = s.user_id AND u.is_active AND u.is_superuser
        AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $2)
      RETURNING s.user_id AS "userId", u.username, s.csrf_token AS csrf`,
    [hashOf(id), limits.idleSeconds],
  );
  if (!live) await endAdminSession(db, id);
  return live;
}

export async function endAdminSession(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM admin_sessions WHERE id_hash = $1', [hashOf(id)]);
}

/** Compares a submitted token with the expected one in constant time. */
export function sameToken(submitted: unknown, expected: string): boolean {
  if (typeof submitted !== 'string') return false;
  const a = Buffer.from(submitted);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
