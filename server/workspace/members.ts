import type { Router } from 'express';
import type pg from 'pg';
import { groupEndpoints as api } from '../../schema/index.ts';
import { findUserById, findUserByUsername } from '../auth/users.ts';
import type { AppContext } from '../context.ts';
import { inTransaction, type Queryable } from '../db/database.ts';
import { conflict, forbidden, notFound, unprocessable } from '../http/errors.ts';
import { mounter } from '../http/route.ts';
import { requireGroupRole, roleAtLeast, type Role } from './access.ts';
import { audit } from './audit.ts';

const memberColumns = 'u.id AS user_id, u.username, u.display_name, m.role, m.created_at AS joined_at';

async function memberView(db: Queryable, groupId: string, userId: string) {
  const { rows } = await db.query(
    `SELECT ${memberColumns} FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.group_id = $1 AND m.user_id = $2`,
    [groupId, userId],
  );
  return rows[0];
}

/**
 * Owners manage everyone; admins manage members and viewers only, and grant at most the member role, so no one
 * can raise themselves or a peer to their own level or above.
 */
function checkManage(actor: Role, targetRole: Role, newRole?: Role): void {
  if (actor === 'owner') return;
  if (roleAtLeast(targetRole, 'admin') || (newRole && roleAtLeast(newRole, 'admin'))) {
    throw forbidden('only owners can grant, change or remove the owner and admin roles');
  }
}

/** Locks the group's owner rows and refuses a change that would leave the group without one. */
async function keepAnOwner(tx: pg.PoolClient, groupId: string, losingOwner: string): Promise<void> {
  const { rows } = await tx.query<{ user_id: string }>(
    `SELECT user_id FROM memberships WHERE group_id = $1 AND role = 'owner' FOR UPDATE`,
    [groupId],
  );
  if (rows.every((r) => r.user_id === losingOwner)) {
    throw conflict('a group needs at least one owner: make someone else owner first');
  }
}

async function lockedRole(tx: pg.PoolClient, groupId: string, userId: string): Promise<Role> {
  const { rows } = await tx.query<{ role: Role }>(
    'SELECT role FROM memberships WHERE group_id = $1 AND user_id = $2 FOR UPDATE',
    [groupId, userId],
  );
  if (!rows[0]) throw notFound('member');
  return rows[0].role;
}

export function mountMemberRoutes(router: Router, app: AppContext): void {
  const { db, access } = app;
  const route = mounter(router, app);
  route(api.listMembers, async ({ params, user }) => {
    await requireGroupRole(db, params.id, user.id);
    const { rows } = await db.query(
      `SELECT ${memberColumns} FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.group_id = $1 ORDER BY m.created_at, u.username`,
      [params.id],
    );
    return rows;
  });

  route(api.addMember, async ({ params, body, user }) => {
    const actorRole = await requireGroupRole(db, params.id, user.id, 'admin');
    checkManage(actorRole, body.role, body.role);
    const target = body.user_id ? await findUserById(db, body.user_id) : await findUserByUsername(db, body.username!);
    if (!target) throw notFound('user');
    if (!target.is_active) throw unprocessable('that account is deactivated');
    const member = await inTransaction(db, async (tx) => {
      const { rowCount } = await tx.query(
        `INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [params.id, target.id, body.role],
      );
      if (!rowCount) throw conflict('that user is already a member: change their role instead');
      await audit(tx, {
        actorId: user.id, groupId: params.id, action: 'member.added', targetUserId: target.id,
        details: { role: body.role },
      });
      return memberView(tx, params.id, target.id);
    });
    access.invalidate(`member:${target.id}`);
    return member;
  });

  route(api.updateMember, async ({ params, body, user }) => {
    const member = await inTransaction(db, async (tx) => {
      const actorRole = await requireGroupRole(tx, params.id, user.id, 'admin');
      const current = await lockedRole(tx, params.id, params.user_id);
      checkManage(actorRole, current, body.role);
      if (current === body.role) return memberView(tx, params.id, params.user_id);
      if (current === 'owner') await keepAnOwner(tx, params.id, params.user_id);
      await tx.query('UPDATE memberships SET role = $3 WHERE group_id = $1 AND user_id = $2', [
        params.id, params.user_id, body.role,
      ]);
      await audit(tx, {
        actorId: user.id, groupId: params.id, action: 'member.role_changed', targetUserId: params.user_id,
        details: { from: current, to: body.role },
      });
      return memberView(tx, params.id, params.user_id);
    });
    access.invalidate(`member:${params.user_id}`);
    return member;
  });

  route(api.removeMember, async ({ params, user }) => {
    await inTransaction(db, async (tx) => {
      const leaving = params.user_id === user.id;
      const actorRole = await requireGroupRole(tx, params.id, user.id, leaving ? 'viewer' : 'admin');
      const current = await lockedRole(tx, params.id, params.user_id);
      if (!leaving) checkManage(actorRole, current);
      if (current === 'owner') await keepAnOwner(tx, params.id, params.user_id);
      await tx.query('DELETE FROM memberships WHERE group_id = $1 AND user_id = $2', [params.id, params.user_id]);
      await audit(tx, {
        actorId: user.id, groupId: params.id, action: leaving ? 'member.left' : 'member.removed',
        targetUserId: params.user_id, details: { role: current },
      });
    });
    access.invalidate(`member:${params.user_id}`);
  });
}
