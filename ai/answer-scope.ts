import type pg from 'pg';

type Db = Pick<pg.Pool, 'query'>;

export interface ReadableChannel {
  id: string;
  name: string;
  type: string;
  /** null for a DM. */
  group_id: string | null;
}

/**
 * Channels that may be drawn from, by id: the permission filter of a search. Both functions below give whole
 * groups (every non-voice channel of a group, or none of them), so a search may name a group instead of its
 * channels (assistant.ts).
 */
export type Scope = Map<string, ReadableChannel>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids in documents are the writers' to set: only a UUID is looked up (PostgreSQL refuses anything else). */
export const isUuid = (id: string) => UUID.test(id);

/**
 * Every non-voice channel a user may read now: channels of their groups, and their DMs. Computed from the
 * database on every request, so a membership change counts at once. The scope of an answer given only to that
 * user (`POST /api/ai/search`).
 */
export async function readableChannels(db: Db, userId: string): Promise<Scope> {
  if (!isUuid(userId)) return new Map();
  const { rows } = await db.query<ReadableChannel>(
    `SELECT c.id, c.name, c.type, c.group_id FROM channels c
       JOIN memberships m ON m.group_id = c.group_id AND m.user_id = $1
      WHERE c.type <> 'VOICE'
     UNION
     SELECT c.id, c.name, c.type, c.group_id FROM channels c
       JOIN dm_participants d ON d.channel_id = c.id AND d.user_id = $1`,
    [userId],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * What an answer written into `channelId` for `askerId` may draw from: what every reader of that channel may
 * read, intersected with what the asker may read. Everyone who reads the channel reads the answer, so nothing
 * of another group, or of a DM, may go into it unless all its readers could read it anyway.
 * - A group channel (readers: the group's members): the group's own non-voice channels. Other groups are left
 *   out even when every member is in them too, since the group may gain members tomorrow and they read history.
 * - A DM (readers: its participants): the DM itself and the channels of groups every participant belongs to;
 *   never another DM.
 * Then only what the asker may read now. An unknown channel or asker gives an empty scope.
 */
export async function answerScope(db: Db, channelId: string, askerId: string): Promise<Scope> {
  if (!isUuid(channelId) || !isUuid(askerId)) return new Map();
  const { rows } = await db.query<ReadableChannel>(
    `WITH common_groups AS (
       SELECT group_id FROM channels WHERE id = $1 AND group_id IS NOT NULL
       UNION
       SELECT m.group_id FROM dm_participants d JOIN memberships m ON m.user_id = d.user_id
        WHERE d.channel_id = $1
        GROUP BY m.group_id
       HAVING count(*) = (SELECT count(*) FROM dm_participants WHERE channel_id = $1)
     )
     SELECT c.id, c.name, c.type, c.group_id FROM channels c
      WHERE c.type <> 'VOICE' AND (c.id = $1 OR c.group_id IN (SELECT group_id FROM common_groups))`,
    [channelId],
  );
  const asker = await readableChannels(db, askerId);
  return new Map(rows.filter((r) => asker.has(r.id)).map((r) => [r.id, r]));
}

/**
 * Whether `userId` is a person who reads `channelId` now: an existing, active user who is not a bot, and a
 * member of the channel's group (any role, viewers too) or a participant of the DM. The @AI bot acts only for
 * such an author.
 */
export async function isCurrentReader(db: Db, channelId: string, userId: string): Promise<boolean> {
  if (!isUuid(channelId) || !isUuid(userId)) return false;
  const { rows } = await db.query(
    `SELECT 1 FROM users u JOIN channels c ON c.id = $1
      WHERE u.id = $2 AND u.is_active AND NOT u.is_bot
        AND (EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = c.group_id AND m.user_id = u.id)
             OR EXISTS (SELECT 1 FROM dm_participants d WHERE d.channel_id = c.id AND d.user_id = u.id))`,
    [channelId, userId],
  );
  return rows.length > 0;
}
