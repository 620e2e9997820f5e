import type { Queryable } from '../db/database.ts';
import { notFound } from '../http/errors.ts';
import { requireChannelRole, type ChannelAccess, type ChannelRow, type Role } from '../workspace/access.ts';

export type ItemKind = 'task' | 'column' | 'card';

/** The channel, if the caller may use it with `minimum` and it holds this kind of content; else 404/403. */
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
  return access;
}

/** Which channel holds an item, or 404 (the same for items of channels the caller cannot see). */
export async function itemChannel(db: Queryable, itemId: string, kind: ItemKind): Promise<string> {
  const { rows } = await db.query<{ channel_id: string }>(
    'SELECT channel_id FROM content_items WHERE item_id = $1 AND kind = $2',
    [itemId, kind],
  );
  if (!rows[0]) throw notFound(kind);
  return rows[0].channel_id;
}

export async function registerItem(db: Queryable, itemId: string, channelId: string, kind: ItemKind): Promise<void> {
  await db.query(
    'INSERT INTO content_items (item_id, channel_id, kind) VALUES ($1, $2, $3) ON CONFLICT (item_id) DO NOTHING',
    [itemId, channelId, kind],
  );
}
