import type { Queryable } from '../../core/db/database.ts';
import { ApiError, notFound } from '../../core/errors.ts';
import { requireChannelRole, type ChannelAccess, type ChannelRow, type Role } from '../../core/access/access.ts';

export type ItemKind = 'task' | 'column' | 'card';

/**
 * The channel, if the caller may use it with `minimum` and it holds this kind of content; else 404/403. A write
 * (`minimum` above viewer) to an archived channel is a 409 `channel_archived`.
 */
export async function contentChannel(
  db: Queryable,
  channelId: string,
  userId: string,
  types: ChannelRow['type'][],
  minimum: Role,
): Promise<ChannelAccess> {
  const access = await requireChannelRole(db, channelId, userId, minimum);
  if (!types.includes(access.channel.type)) {
    throw notFound(`${types.join(' or ')} channel`);
  }
  if (minimum !== 'viewer' && access.channel.archived_at !== null) {
    throw new ApiError(409, 'channel_archived', 'this channel is archived: it is read-only until an owner or admin unarchives it');
  }
  return access;
}

/**
 * Which channel holds an item, among the channels of the caller's groups, or 404 (the same for items of channels
 * the caller cannot see). Ids come from clients, so the same id may be registered in several channels; one the
 * caller cannot see never hides one they can, and the first registration wins among the rest.
 */
export async function itemChannel(db: Queryable, itemId: string, kind: ItemKind, userId: string): Promise<string> {
  const { rows } = await db.query<{ channel_id: string }>(
    `SELECT i.channel_id FROM content_items i
       JOIN channels c ON c.id = i.channel_id
       JOIN memberships m ON m.group_id = c.group_id AND m.user_id = $3
      WHERE i.item_id = $1 AND i.kind = $2
      ORDER BY i.registered_at, i.channel_id LIMIT 1`,
    [itemId, kind, userId],
  );
  if (!rows[0]) throw notFound(kind);
  return rows[0].channel_id;
}

export async function registerItem(db: Queryable, itemId: string, channelId: string, kind: ItemKind): Promise<void> {
  await db.query(
    'INSERT INTO content_items (item_id, channel_id, kind) VALUES ($1, $2, $3) ON CONFLICT (channel_id, item_id) DO NOTHING',
    [itemId, channelId, kind],
  );
}
