import type { Router } from 'express';
import type pg from 'pg';
import { lifecycleEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { inTransaction } from '../../core/db/database.ts';
import { ApiError, unauthorized } from '../../core/errors.ts';
import { mounter } from '../http/route.ts';
import { audit } from '../workspace/audit.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { startSession } from './sessions.ts';

const wrongPassword = () => unauthorized('the password is wrong', 'invalid_credentials');

/**
 * Checks the user's password (401 `invalid_credentials` when wrong), before any transaction: Argon2 takes tens of
 * milliseconds, and the embedded database's one session would wait for it. Returns the hash it matched.
 */
async function confirmPassword(db: pg.Pool, userId: string, password: string): Promise<string> {
  const { rows: [row] } = await db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [userId]);
  if (!row || !(await verifyPassword(row.password_hash, password))) throw wrongPassword();
  return row.password_hash;
}

/** Locks the user's row; refuses if the password changed since `confirmPassword` matched it. */
async function lockConfirmed(tx: pg.PoolClient, userId: string, matched: string): Promise<void> {
  const { rows: [row] } = await tx.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1 FOR UPDATE', [userId]);
  if (row?.password_hash !== matched) throw wrongPassword();
}

/** The groups the user is the only owner of, locked with every other group of theirs so no owner changes meanwhile. */
async function groupsOnlyOwnedBy(tx: pg.PoolClient, userId: string): Promise<{ id: string; name: string }[]> {
  await tx.query(
    'SELECT 1 FROM groups WHERE id IN (SELECT group_id FROM memberships WHERE user_id = $1) ORDER BY id FOR UPDATE',
    [userId],
  );
  const { rows } = await tx.query<{ id: string; name: string }>(
    `SELECT g.id, g.name FROM memberships m JOIN groups g ON g.id = m.group_id
      WHERE m.user_id = $1 AND m.role = 'owner'
        AND NOT EXISTS (SELECT 1 FROM memberships o WHERE o.group_id = m.group_id AND o.role = 'owner' AND o.user_id <> $1)
      ORDER BY g.name, g.id`,
    [userId],
  );
  return rows;
}

/**
 * A user's own account: a new password (the current one confirms it; every session ends at once, its refresh
 * tokens revoked and its access tokens refused with its token epoch bumped, and the caller gets a new pair under the
 * new epoch), and deletion. A deleted account is anonymised, not removed: its row stays so
 * what it wrote keeps an author (shown as a deleted user), but it can never log in again, its username and email are
 * freed (tombstoned as `deleted-<id>`), and it leaves every group. The only owner of a group must first hand it
 * over or delete it (409 naming those groups).
 */
export function mountAccountRoutes(router: Router, app: AppContext): void {
  const { db, sessions, access, log } = app;
  const route = mounter(router, app);

  route(api.changePassword, async ({ body, user, res }) => {
    res.set('Cache-Control', 'no-store');
    const matched = await confirmPassword(db, user.id, body.current_password);
    const passwordHash = await hashPassword(body.new_password);
    const pair = await inTransaction(db, async (tx) => {
      await lockConfirmed(tx, user.id, matched);
      const { rows: [owner] } = await tx.query<{ id: string; token_epoch: number }>(
        'UPDATE users SET password_hash = $2, token_epoch = token_epoch + 1 WHERE id = $1 RETURNING id, token_epoch',
        [user.id, passwordHash],
      );
      await tx.query('UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [user.id]);
      await audit(tx, { actorId: user.id, groupId: null, action: 'account.password_changed', targetUserId: user.id });
      return startSession(tx, sessions, owner!);
    });
    // This instance refuses the old epoch's tokens (and accepts the new pair's) from the next request on.
    access.invalidate(`user:${user.id}`);
    log.info({ user_id: user.id }, 'password changed: other sessions revoked');
    return pair;
  });

  route(api.deleteAccount, async ({ body, user }) => {
    const matched = await confirmPassword(db, user.id, body.password);
    const groups = await inTransaction(db, async (tx) => {
      await lockConfirmed(tx, user.id, matched);
      const onlyOwner = await groupsOnlyOwnedBy(tx, user.id);
      if (onlyOwner.length) {
        const names = onlyOwner.map((g) => `"${g.name}"`).join(', ');
        throw new ApiError(409, 'conflict', `you are the only owner of ${names}: make someone else owner or delete it first`, {
          groups: onlyOwner,
        });
      }
      const { rows: left } = await tx.query<{ group_id: string; role: string }>(
        'DELETE FROM memberships WHERE user_id = $1 RETURNING group_id, role',
        [user.id],
      );
      for (const m of left) {
        await audit(tx, {
          actorId: user.id, groupId: m.group_id, action: 'member.left', targetUserId: user.id,
          details: { role: m.role, account_deleted: true },
        });
      }
      await tx.query('DELETE FROM refresh_tokens WHERE user_id = $1', [user.id]);
      // No password hash matches '!' (it is no Argon2 string), and a deactivated account is refused everywhere.
      await tx.query(
        `UPDATE users SET username = 'deleted-' || id, email = 'deleted-' || id || '@deleted.invalid', password_hash = '!',
                display_name = NULL, is_active = false, deleted_at = now(), token_epoch = token_epoch + 1
          WHERE id = $1`,
        [user.id],
      );
      await audit(tx, { actorId: user.id, groupId: null, action: 'account.deleted', targetUserId: user.id });
      return left;
    });
    access.invalidate(`user:${user.id}`);
    access.invalidate(`member:${user.id}`);
    log.info({ user_id: user.id, groups_left: groups.length }, 'account deleted');
  });
}
