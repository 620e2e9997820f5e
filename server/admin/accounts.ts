import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { hashPassword } from '../auth/passwords.ts';
import { inTransaction, type Queryable } from '../../core/db/database.ts';
import { ApiError } from '../../core/errors.ts';
import type { Licensing } from '../license/licensing.ts';
import { recordAdminAction } from './audit.ts';

/** Refused: the change would leave no active superuser, and so no one who can open the console. */
export const lastSuperuser = () =>
  new ApiError(409, 'conflict', 'this is the last active superuser: make another one first, or the console has no one left');

/**
 * Runs `change` on a user while holding every active superuser's row, after checking that it does not take the last
 * one away (`removes`: whether the change ends the user's being an active superuser). Locking the rows makes two
 * concurrent removals of the last two wait for each other, so one of them sees the other and is refused.
 */
async function guarded(
  pool: pg.Pool,
  userId: string,
  removes: boolean,
  change: (tx: pg.PoolClient) => Promise<void>,
): Promise<void> {
  await inTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      'SELECT id FROM users WHERE is_superuser AND is_active ORDER BY id FOR UPDATE',
    );
    if (removes && rows.length === 1 && rows[0]!.id === userId) throw lastSuperuser();
    await change(tx);
  });
}

async function updateUser(tx: Queryable, userId: string, set: string, value: unknown): Promise<void> {
  const { rowCount } = await tx.query(`UPDATE users SET ${set} = $2 WHERE id = $1`, [userId, value]);
  if (!rowCount) throw new ApiError(404, 'not_found', 'user not found');
}

/**
 * Activates or deactivates an account. Deactivation takes effect everywhere at once: the users trigger announces it
 * (access_changed), so every instance closes the account's /collab and /rtc connections and refuses its tokens; and
 * it ends every session (`revokeSessions`), so a reactivated account signs in again rather than finding its old
 * logins alive. Reactivating a person takes a seat of the licence (403 license_required when none is left).
 */
export function setActive(
  pool: pg.Pool, seats: Pick<Licensing, 'assertSeatToReactivate'>, actorId: string, userId: string, active: boolean,
): Promise<void> {
  return guarded(pool, userId, !active, async (tx) => {
    if (active) await seats.assertSeatToReactivate(tx, userId);
    await updateUser(tx, userId, 'is_active', active);
    if (!active) await revokeSessions(tx, userId);
    await recordAdminAction(tx, { actorId, action: active ? 'user.activate' : 'user.deactivate', targetType: 'user', targetId: userId });
  });
}

/** Grants or revokes the superuser flag; revoking ends the user's console sessions (trigger). */
export function setSuperuser(pool: pg.Pool, actorId: string, userId: string, on: boolean): Promise<void> {
  return guarded(pool, userId, !on, async (tx) => {
    await updateUser(tx, userId, 'is_superuser', on);
    await recordAdminAction(tx, {
      actorId, action: on ? 'user.grant_superuser' : 'user.revoke_superuser', targetType: 'user', targetId: userId,
    });
  });
}

/**
 * Ends every session of an account at once: its token epoch is bumped, so every access token already issued is
 * refused and the /collab and /rtc connections opened with one are closed, on every instance (the users trigger
 * announces it at commit); its refresh tokens are revoked, so no client gets a new one; its console sessions end.
 * The user's row is taken first, as a refresh takes it (server/auth/sessions.ts).
 */
async function revokeSessions(tx: Queryable, userId: string): Promise<void> {
  const { rowCount } = await tx.query('UPDATE users SET token_epoch = token_epoch + 1 WHERE id = $1', [userId]);
  if (!rowCount) throw new ApiError(404, 'not_found', 'user not found');
  await tx.query('UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
  await tx.query('DELETE FROM admin_sessions WHERE user_id = $1', [userId]);
}

/** Ends every login of an account at once (`revokeSessions`). */
export function revokeAllSessions(pool: pg.Pool, actorId: string, userId: string): Promise<void> {
  return inTransaction(pool, async (tx) => {
    await revokeSessions(tx, userId);
    await recordAdminAction(tx, { actorId, action: 'user.revoke_sessions', targetType: 'user', targetId: userId });
  });
}

/** A password to hand over once: 16 random bytes, readable (base64url, 22 characters). */
export const oneTimePassword = () => randomBytes(16).toString('base64url');

/** Sets a new password (and revokes every session, since whoever had the old one may be signed in). */
export async function resetPassword(pool: pg.Pool, actorId: string, userId: string, password: string, generated: boolean): Promise<void> {
  const passwordHash = await hashPassword(password);
  await inTransaction(pool, async (tx) => {
    await updateUser(tx, userId, 'password_hash', passwordHash);
    await revokeSessions(tx, userId);
    await recordAdminAction(tx, {
      actorId, action: 'user.reset_password', targetType: 'user', targetId: userId, details: { generated },
    });
  });
}
