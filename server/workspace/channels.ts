import type { Router } from 'express';
import { channelEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { inTransaction } from '../../core/db/database.ts';
import { conflict } from '../../core/errors.ts';
import { mounter } from '../http/route.ts';
import { requireChannelRole, requireGroupRole } from '../../core/access/access.ts';
import { audit } from './audit.ts';
import { requireCreationQuota } from './creation-quota.ts';

export const channelColumns = 'c.id, c.group_id, c.name, c.type, c.description, c.archived_at, c.created_by, c.created_at';
export const dmColumns = `${channelColumns},
  ARRAY(SELECT p.user_id FROM dm_participants p WHERE p.channel_id = c.id ORDER BY p.user_id) AS participant_ids`;

export function mountChannelRoutes(router: Router, app: AppContext): void {
  const { db } = app;
  const route = mounter(router, app);
  route(api.createChannel, async ({ params, body, user, res }) =>
    inTransaction(db, async (tx) => {
      await requireGroupRole(tx, params.id, user.id, 'member');
      await requireCreationQuota(tx, res, 'channels', [
        { scope: 'user', id: user.id, perHour: app.config.CHANNELS_PER_HOUR_PER_USER },
        { scope: 'group', id: params.id, perHour: app.config.CHANNELS_PER_HOUR_PER_GROUP },
      ]);
      const { rows } = await tx.query(
        `INSERT INTO channels AS c (group_id, name, type, created_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING RETURNING ${channelColumns}`,
        [params.id, body.name, body.type, user.id],
      );
      if (!rows[0]) throw conflict(`this group already has a channel named "${body.name}"`);
      await audit(tx, {
        actorId: user.id, groupId: params.id, action: 'channel.created',
        details: { channel_id: rows[0].id, name: body.name, type: body.type },
      });
      return rows[0];
    }),
  );

  route(api.listChannels, async ({ params, user }) => {
    await requireGroupRole(db, params.id, user.id);
    const { rows } = await db.query(
      `SELECT ${channelColumns} FROM channels c WHERE c.group_id = $1 ORDER BY c.created_at, c.id`,
      [params.id],
    );
    return rows;
  });

  route(api.getChannel, async ({ params, user }) => {
    const { channel } = await requireChannelRole(db, params.id, user.id);
    if (channel.type !== 'DM') return channel;
    const { rows } = await db.query(`SELECT ${dmColumns} FROM channels c WHERE c.id = $1`, [channel.id]);
    return rows[0];
  });
}
