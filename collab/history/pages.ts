import type * as Y from 'yjs';
import type { Queryable } from '../../server/index.ts';
import { inReceiptOrder, readMessageById, readMessages, type Message } from '../shapes/chat.ts';
import { segmentName } from './names.ts';

export interface PageQuery {
  /** The page ends just before this message (newest page: none). */
  before?: string;
  /** Only the replies to this message. */
  thread?: string;
  limit: number;
}

export interface Page {
  /** Oldest first, in the order the server first stored them. */
  messages: Message[];
  /** What to pass as `before` for the page before this one; null at the start of history. */
  next_before: string | null;
}

type Read = <T>(documentName: string, reader: (doc: Y.Doc) => T) => Promise<T>;

/**
 * A page of a chat's history, newest first by page, through every part: the live part (bounded, read whole) and,
 * before it, the sealed segments, found through the `chat_messages` index (by position, or by thread) so only the
 * segments that hold the page's messages are opened: the cost does not depend on how long the history is.
 * `undefined` when `before` names no message of the channel.
 */
export async function pageOfHistory(db: Queryable, read: Read, channelId: string, query: PageQuery): Promise<Page | undefined> {
  const live = inReceiptOrder(await read(channelId, readMessages));
  const list = query.thread ? live.filter((m) => m.parent_id === query.thread) : live;
  let end = list.length;
  let sealedBefore: string | undefined;
  if (query.before !== undefined) {
    end = list.findIndex((m) => m.id === query.before);
    if (end < 0) {
      // A live message outside the thread asked for pages nothing.
      if (live.some((m) => m.id === query.before)) return undefined;
      const { rows: [row] } = await db.query<{ seq: string }>(
        'SELECT seq::text FROM chat_messages WHERE channel_id = $1 AND message_id = $2',
        [channelId, query.before],
      );
      if (!row) return undefined;
      end = 0;
      sealedBefore = row.seq;
    }
  }
  const start = Math.max(0, end - query.limit);
  const fromLive = list.slice(start, end);
  if (start > 0) return { messages: fromLive, next_before: fromLive[0]!.id };

  // The rest of the page (and whether anything is older) from the segments.
  const wanted = query.limit - fromLive.length;
  const { rows } = await db.query<{ message_id: string; part: number }>(
    `SELECT message_id, part FROM chat_messages
     WHERE channel_id = $1 AND ($2::text IS NULL OR parent_id = $2) AND ($3::bigint IS NULL OR seq < $3)
     ORDER BY seq DESC LIMIT $4`,
    [channelId, query.thread ?? null, sealedBefore ?? null, wanted + 1],
  );
  const older = rows.slice(0, wanted).reverse();
  const byPart = new Map<number, string[]>();
  for (const row of older) byPart.set(row.part, [...(byPart.get(row.part) ?? []), row.message_id]);
  const found = new Map<string, Message>();
  for (const [part, ids] of byPart) {
    const messages = await read(segmentName(channelId, part), (doc) => ids.map((id) => readMessageById(doc, id)));
    for (const m of messages) if (m) found.set(m.id, m);
  }
  const messages = [...older.flatMap((row) => found.get(row.message_id) ?? []), ...fromLive];
  return { messages, next_before: rows.length > wanted && messages.length ? messages[0]!.id : null };
}
