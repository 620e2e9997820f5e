import * as Y from 'yjs';
import type { Queryable } from '../../core/index.ts';

/** The strings an update writes under `id` and `parent_id` keys: the message ids its new messages name. */
function namedIds(update: Uint8Array): string[] {
  const ids = new Set<string>();
  for (const struct of Y.decodeUpdate(update).structs) {
    if (!(struct instanceof Y.Item) || (struct.parentSub !== 'id' && struct.parentSub !== 'parent_id')) continue;
    const [value] = struct.content.getContent();
    if (typeof value === 'string' && value.length <= 64) ids.add(value);
  }
  return [...ids];
}

/** The segment part each of these message ids of a channel is sealed in (ids not sealed are left out). */
export async function sealedParts(db: Queryable, channelId: string, ids: string[]): Promise<Map<string, number>> {
  if (!ids.length) return new Map();
  const { rows } = await db.query<{ message_id: string; part: number }>(
    'SELECT message_id, part FROM chat_messages WHERE channel_id = $1 AND message_id = ANY($2::text[])',
    [channelId, ids],
  );
  return new Map(rows.map((r) => [r.message_id, r.part]));
}

/**
 * Which of the message ids an update names are held in the channel's sealed segments: a reply's parent may be
 * there, and a new message may not take one of their ids. One indexed lookup per update that names any.
 */
export async function sealedIdsNamedIn(db: Queryable, channelId: string, update: Uint8Array): Promise<Set<string>> {
  return new Set((await sealedParts(db, channelId, namedIds(update))).keys());
}
