import * as Y from 'yjs';
import type { Queryable } from '../../server/index.ts';

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

/**
 * Which of the message ids an update names are held in the channel's sealed segments: a reply's parent may be
 * there, and a new message may not take one of their ids. One indexed lookup per update that names any.
 */
export async function sealedIdsNamedIn(db: Queryable, channelId: string, update: Uint8Array): Promise<Set<string>> {
  const named = namedIds(update);
  if (!named.length) return new Set();
  const { rows } = await db.query<{ message_id: string }>(
    'SELECT message_id FROM chat_messages WHERE channel_id = $1 AND message_id = ANY($2::text[])',
    [channelId, named],
  );
  return new Set(rows.map((r) => r.message_id));
}
