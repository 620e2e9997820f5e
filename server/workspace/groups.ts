import type { Router } from 'express';
import { groupEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { inTransaction } from '../../core/db/database.ts';
import { notFound } from '../../core/errors.ts';
import { mounter } from '../http/route.ts';
import { requireGroupRole } from '../../core/access/access.ts';
import { audit } from './audit.ts';

export function mountGroupRoutes(router: Router, app: AppContext): void {
  const { db, access } = app;
  const route = mounter(router, app);
  route(api.createGroup, async ({ body, user }) => {
    const group = await inTransaction(db, async (tx) => {
      const { rows } = await tx.query(
        `INSERT INTO groups (name, description, created_by) VALUES ($1, $2, $3)
         RETURNING id, name, description, created_by, created_at, 'owner' AS role`,
        [body.name, body.description ?? '', user.id],
      );
      const group = rows[0];
      await tx.query(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'owner')`, [group.id, user.id]);
      await audit(tx, { actorId: user.id, groupId: group.id, action: 'group.created', targetUserId: user.id });
      return group;
    });
    access.invalidate(`member:${user.id}`);
    return group;
  });

  route(api.listGroups, async ({ user }) => access.groups(user.id));

  route(api.getGroup, async ({ params, user }) => {
    const group = (await access.groups(user.id)).find((g) => g.id === params.id);
    if (!group) throw notFound('group');
    return group;
  });

  route(api.auditLog, async ({ params, query, user }) => {
    await requireGroupRole(db, params.id, user.id, 'admin');
    const { rows } = await db.query(
      `SELECT id::float8 AS id, actor_id, action, target_user_id, details, created_at FROM audit_log
        WHERE group_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
      [params.id, query.before ?? null, query.limit],
    );
    return rows;
  });
}
