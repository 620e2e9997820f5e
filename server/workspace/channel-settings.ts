import type { Router } from 'express';
import type pg from 'pg';
import { lifecycleEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { inTransaction } from '../../core/db/database.ts';
import { conflict } from '../../core/errors.ts';
import { mounter } from '../http/route.ts';
import { requireChannelRole } from '../../core/access/access.ts';
import { audit, changesOf } from './audit.ts';
import { channelColumns } from './channels.ts';
import { eraseChannels } from './erase.ts';

const UNIQUE_VIOLATION = '23505';

async function channelRow(tx: pg.PoolClient, id: string) {
  return (await tx.query(`SELECT ${channelColumns} FROM channels c WHERE c.id = $1`, [id])).rows[0];
}

/**
 * A group channel's life cycle: owners and admins rename, describe, archive and unarchive it; owners delete it. A
 * DM has none of these (its participants count as members: 403). Every change is audited in the group's log.
 */
export function mountChannelSettingsRoutes(router: Router, app: AppContext): void {
  const { db } = app;
  const route = mounter(router, app);

  route(api.updateChannel, async ({ params, body, user }) =>
    inTransaction(db, async (tx) => {
      const { channel } = await requireChannelRole(tx, params.id, user.id, 'admin');
      try {
        await tx.query(
          'UPDATE channels SET name = coalesce($2, name), description = coalesce($3, description) WHERE id = $1',
          [params.id, body.name ?? null, body.description ?? null],
        );
      } catch (err) {
        if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
        throw conflict(`this group already has a channel named "${body.name}"`);
      }
      const changed = changesOf(channel, body);
      if (Object.keys(changed).length) {
        await audit(tx, {
          actorId: user.id, groupId: channel.group_id, action: 'channel.updated', details: { channel_id: channel.id, ...changed },
        });
      }
      return channelRow(tx, params.id);
    }),
  );

  const setArchived = (archived: boolean) => async ({ params, user }: { params: { id: string }; user: { id: string } }) =>
    inTransaction(db, async (tx) => {
      const { channel } = await requireChannelRole(tx, params.id, user.id, 'admin');
      const { rowCount } = await tx.query(
        `UPDATE channels SET archived_at = ${archived ? 'now()' : 'NULL'}
          WHERE id = $1 AND (archived_at IS NULL) = $2`,
        [params.id, archived],
      );
      if (rowCount) {
        await audit(tx, {
          actorId: user.id, groupId: channel.group_id, action: archived ? 'channel.archived' : 'channel.unarchived',
          details: { channel_id: channel.id, name: channel.name },
        });
      }
      return channelRow(tx, params.id);
    });
  route(api.archiveChannel, setArchived(true));
  route(api.unarchiveChannel, setArchived(false));

  route(api.deleteChannel, async ({ params, user }) => {
    await inTransaction(db, async (tx) => {
      const { channel } = await requireChannelRole(tx, params.id, user.id, 'owner');
      await eraseChannels(tx, [channel.id]);
      await audit(tx, {
        actorId: user.id, groupId: channel.group_id, action: 'channel.deleted',
        details: { channel_id: channel.id, name: channel.name, type: channel.type },
      });
    });
  });
}
