import type { Router } from 'express';
import { lifecycleEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { inTransaction } from '../../core/db/database.ts';
import { mounter } from '../http/route.ts';
import { requireGroupRole } from '../../core/access/access.ts';
import { audit, changesOf } from './audit.ts';
import { eraseChannels } from './erase.ts';

/**
 * A group's life cycle: owners and admins rename and describe it; owners delete it with every channel and what is
 * stored for them (erase.ts). The group's own audit log goes with it, so its deletion is recorded outside it
 * (`group_id` null, the group named in the details).
 */
export function mountGroupSettingsRoutes(router: Router, app: AppContext): void {
  const { db, access } = app;
  const route = mounter(router, app);

  route(api.updateGroup, async ({ params, body, user }) => {
    const group = await inTransaction(db, async (tx) => {
      const role = await requireGroupRole(tx, params.id, user.id, 'admin');
      const { rows: [before] } = await tx.query('SELECT name, description FROM groups WHERE id = $1 FOR UPDATE', [params.id]);
      const { rows: [after] } = await tx.query(
        `UPDATE groups SET name = coalesce($2, name), description = coalesce($3, description) WHERE id = $1
         RETURNING id, name, description, created_by, created_at, $4::text AS role`,
        [params.id, body.name ?? null, body.description ?? null, role],
      );
      const changed = changesOf(before, body);
      if (Object.keys(changed).length) {
        await audit(tx, { actorId: user.id, groupId: params.id, action: 'group.updated', details: changed });
      }
      return after;
    });
    access.invalidate(`group:${params.id}`);
    return group;
  });

  route(api.deleteGroup, async ({ params, user }) => {
    await inTransaction(db, async (tx) => {
      // Locked first, as membership changes do, so no member joins or is promoted while it goes.
      const { rows: [group] } = await tx.query<{ name: string }>('SELECT name FROM groups WHERE id = $1 FOR UPDATE', [params.id]);
      await requireGroupRole(tx, params.id, user.id, 'owner');
      const { rows: channels } = await tx.query<{ id: string }>('SELECT id FROM channels WHERE group_id = $1', [params.id]);
      await eraseChannels(tx, channels.map((c) => c.id));
      await tx.query('DELETE FROM groups WHERE id = $1', [params.id]);
      await audit(tx, {
        actorId: user.id, groupId: null, action: 'group.deleted',
        details: { group_id: params.id, name: group!.name, channels: channels.length },
      });
    });
    access.invalidate(`group:${params.id}`);
  });
}
