import type { Router } from 'express';
import type pg from 'pg';
import { groupEndpoints as api } from '../../schema/index.ts';
import { findUserById, findUserByUsername } from '../../core/auth/users.ts';
import type { AppContext } from '../context.ts';
import { inTransaction, type Queryable } from '../../core/db/database.ts';
import { conflict, forbidden, notFound } from '../../core/errors.ts';
import { mounter } from '../http/route.ts';
import { requireGroupRole, roleAtLeast, type Role } from '../../core/access/access.ts';
import { audit } from './audit.ts';

async function members(db: Queryable, groupId: string, userId?: string) {
  const { rows } = await db.query(
    `SELECT u.id AS user_id, u.username, u.display_name, m.role, m.created_at AS joined_at
       FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.group_id = $1 AND ($2::uuid IS NULL OR m.user_id = $2)
      ORDER BY m.created_at, u.username`,
    [groupId, userId ?? null],
  );
  return rows;
}

/**
 * Starts a change of membership: locks the group, so changes to one group's members run one at a time (two
 * owners demoting each other cannot both succeed, nor deadlock), then checks the actor's role under that lock.
 */
async function beginMembershipChange(tx: pg.PoolClient, groupId: string, actorId: string, minimum: Role) {
  await tx.query('SELECT 1 FROM groups WHERE id = $1 FOR UPDATE', [groupId]);
  return requireGroupRole(tx, groupId, actorId, minimum);
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

/** Refuses a change that would leave the group without an owner (the group row is locked by the caller). */
async function keepAnOwner(tx: pg.PoolClient, groupId: string, losingOwner: string): Promise<void> {
  const { rows } = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM memberships WHERE group_id = $1 AND role = 'owner' AND user_id <> $2`,
    [groupId, losingOwner],
  );
  if (!rows[0]?.n) throw conflict('a group needs at least one owner: make someone else owner first');
}

async function roleOf(tx: pg.PoolClient, groupId: string, userId: string): Promise<Role> {
  const { rows } = await tx.query<{ role: Role }>(
    'SELECT role FROM memberships WHERE group_id = $1 AND user_id = $2',
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
    return members(db, params.id);
  });

  route(api.addMember, async ({ params, body, user }) => {
    const member = await inTransaction(db, async (tx) => {
      const actorRole = await beginMembershipChange(tx, params.id, user.id, 'admin');
      checkManage(actorRole, body.role, body.role);
      const target = body.user_id ? await findUserById(tx, body.user_id) : await findUserByUsername(tx, body.username!);
      // A deactivated account is reported like an unknown one.
      if (!target?.is_active) throw notFound('user');
      const { rowCount } = await tx.query(
        `INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [params.id, target.id, body.role],
      );
      if (!rowCount) throw conflict('that user is already a member: change their role instead');
      await audit(tx, {
        actorId: user.id, groupId: params.id, action: 'member.added', targetUserId: target.id,
        details: { role: body.role },
      });
      return (await members(tx, params.id, target.id))[0];
    });
    access.invalidate(`member:${member.user_id}`);
    return member;
  });

  route(api.updateMember, async ({ params, body, user }) => {
    const member = await inTransaction(db, async (tx) => {
      const actorRole = await beginMembershipChange(tx, params.id, user.id, 'admin');
      const current = await roleOf(tx, params.id, params.user_id);
      checkManage(actorRole, current, body.role);
      if (current !== body.role) {
        if (current === 'owner') await keepAnOwner(tx, params.id, params.user_id);
        await tx.query('UPDATE memberships SET role = $3 WHERE group_id = $1 AND user_id = $2', [
          params.id, params.user_id, body.role,
        ]);
        await audit(tx, {
          actorId: user.id, groupId: params.id, action: 'member.role_changed', targetUserId: params.user_id,
          details: { from: current, to: body.role },
        });
      }
      return (await members(tx, params.id, params.user_id))[0];
    });
    access.invalidate(`member:${params.user_id}`);
    return member;
  });

  route(api.removeMember, async ({ params, user }) => {
    await inTransaction(db, async (tx) => {
      const leaving = params.user_id === user.id;
      const actorRole = await beginMembershipChange(tx, params.id, user.id, leaving ? 'viewer' : 'admin');
      const current = await roleOf(tx, params.id, params.user_id);
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
