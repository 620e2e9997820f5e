import type { Router } from 'express';
import { groupEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { mounter } from '../http/route.ts';

/**
 * Names for user ids, so a client can show who wrote a message: the caller, anyone who shares a group or a DM with
 * them, bots (the AI assistant writes in channels but belongs to no group), and deleted accounts (anonymised, in no
 * group any more, their content shown as a deleted user's). Other ids are left out, exactly as ids that do not exist.
 */
export function mountPeopleRoutes(router: Router, app: AppContext): void {
  const { db } = app;
  const route = mounter(router, app);
  route(api.listPeople, async ({ query, user }) => {
    const { rows } = await db.query(
      `SELECT u.id, u.username, u.display_name, u.is_bot, u.deleted_at IS NOT NULL AS is_deleted FROM users u
        WHERE u.id = ANY($2::uuid[])
          AND (u.id = $1 OR u.is_bot OR u.deleted_at IS NOT NULL
               OR EXISTS (SELECT 1 FROM memberships a JOIN memberships b ON a.group_id = b.group_id
                           WHERE a.user_id = $1 AND b.user_id = u.id)
               OR EXISTS (SELECT 1 FROM dm_participants a JOIN dm_participants b ON a.channel_id = b.channel_id
                           WHERE a.user_id = $1 AND b.user_id = u.id))
        ORDER BY u.id`,
      [user.id, [...new Set(query.ids)]],
    );
    return rows;
  });
}
