import type { Router } from 'express';
import { channelEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { inTransaction } from '../../core/db/database.ts';
import { notFound, unprocessable } from '../../core/errors.ts';
import { mounter, Reply } from '../http/route.ts';
import { dmColumns } from './channels.ts';
import { requireCreationQuota } from './creation-quota.ts';

export function mountDmRoutes(router: Router, app: AppContext): void {
  const { db } = app;
  const route = mounter(router, app);
  route(api.openDm, async ({ body, user, res }) => {
    if (body.user_id === user.id) throw unprocessable('a direct message needs another user');
    // Only users who share a group may start a DM; anyone else is reported as unknown, not as a stranger.
    const { rows: peers } = await db.query<{ username: string }>(
      `SELECT u.username FROM users u
        WHERE u.id = $2 AND u.is_active
          AND EXISTS (SELECT 1 FROM memberships a JOIN memberships b ON a.group_id = b.group_id
                       WHERE a.user_id = $1 AND b.user_id = $2)`,
      [user.id, body.user_id],
    );
    const peer = peers[0];
    if (!peer) throw notFound('user');
    const [low, high] = [user.id, body.user_id].sort();
    const dmKey = `${low}:${high}`;
    return inTransaction(db, async (tx) => {
      const find = async () =>
        (await tx.query(`SELECT ${dmColumns} FROM channels c WHERE c.dm_key = $1`, [dmKey])).rows[0];
      const existing = await find();
      if (existing) return new Reply(200, existing);
      await requireCreationQuota(tx, res, 'direct messages', [
        { scope: 'user', id: user.id, perHour: app.config.DMS_PER_HOUR_PER_USER },
      ]);
      const { rows: created } = await tx.query<{ id: string }>(
        `INSERT INTO channels (name, type, dm_key, created_by) VALUES ($1, 'DM', $2, $3)
         ON CONFLICT (dm_key) DO NOTHING RETURNING id`,
        [[user.username, peer.username].sort().join(', '), dmKey, user.id],
      );
      if (created[0]) {
        await tx.query('INSERT INTO dm_participants (channel_id, user_id) VALUES ($1, $2), ($1, $3)', [
          created[0].id, low, high,
        ]);
      }
      // Created meanwhile by a concurrent request: the same DM, as it existed.
      return created[0] ? await find() : new Reply(200, await find());
    });
  });

  route(api.listDms, async ({ user }) => {
    const { rows } = await db.query(
      `SELECT ${dmColumns} FROM dm_participants me JOIN channels c ON c.id = me.channel_id
        WHERE me.user_id = $1 ORDER BY c.created_at, c.id`,
      [user.id],
    );
    return rows;
  });
}
