import type { Router } from 'express';
import { groupEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { inTransaction } from '../db/database.ts';
import { notFound } from '../http/errors.ts';
import { mount } from '../http/route.ts';
import { requireGroupRole } from './access.ts';
import { audit } from './audit.ts';

const groupColumns = 'g.id, g.name, g.description, g.created_by, g.created_at, m.role';

export function mountGroupRoutes(router: Router, { db, authenticate }: AppContext): void {
  mount(router, api.createGroup, authenticate, async ({ body, user }) =>
    inTransaction(db, async (tx) => {
      const { rows } = await tx.query(
        `INSERT INTO groups (name, description, created_by) VALUES ($1, $2, $3)
         RETURNING id, name, description, created_by, created_at, 'owner' AS role`,
        [body.name, body.description ?? '', user.id],
      );
      const group = rows[0];
      await tx.query(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'owner')`, [group.id, user.id]);
      await audit(tx, { actorId: user.id, groupId: group.id, action: 'group.created', targetUserId: user.id });
      return group;
    }),
  );

  mount(router, api.listGroups, authenticate, async ({ user }) => {
    const { rows } = await db.query(
      `SELECT ${groupColumns} FROM memberships m JOIN groups g ON g.id = m.group_id
        WHERE m.user_id = $1 ORDER BY g.created_at, g.id`,
      [user.id],
    );
    return rows;
  });

  mount(router, api.getGroup, authenticate, async ({ params, user }) => {
    const { rows } = await db.query(
      `SELECT ${groupColumns} FROM memberships m JOIN groups g ON g.id = m.group_id
        WHERE m.group_id = $1 AND m.user_id = $2`,
      [params.id, user.id],
    );
    if (!rows[0]) throw notFound('group');
    return rows[0];
  });

  mount(router, api.auditLog, authenticate, async ({ params, query, user }) => {
    await requireGroupRole(db, params.id, user.id, 'admin');
    const { rows } = await db.query(
      `SELECT id::float8 AS id, actor_id, action, target_user_id, details, created_at FROM audit_log
        WHERE group_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
      [params.id, query.before ?? null, query.limit],
    );
    return rows;
  });
}
