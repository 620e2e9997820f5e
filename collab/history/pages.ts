import type * as Y from 'yjs';
import type { Queryable } from '../../core/index.ts';
import { inReceiptOrder, readMessageById, readMessages, type Message } from '../shapes/chat.ts';
import { segmentName } from './names.ts';

export interface PageQuery {
  /** The page ends just before this message (newest page: none). */
  before?: string;
  /** Only the replies to this message. */
  thread?: string;
  limit: number;
}

/** A message with the part of history that holds it now: null for the live part, else its segment's number. */
export type PagedMessage = Message & { part: number | null };

export interface Page {
  /** Oldest first, in the order the server first stored them. */
  messages: PagedMessage[];
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
  // A page before a sealed message lies wholly in the segments: the live part is not read.
  if (query.before !== undefined) {
    const { rows: [sealed] } = await db.query<{ seq: string }>(
      'SELECT seq::text FROM chat_messages WHERE channel_id = $1 AND message_id = $2',
      [channelId, query.before],
    );
    if (sealed) return sealedPage(db, read, channelId, query, { before: sealed.seq, after: [], inLive: new Set() });
  }
  const live = inReceiptOrder(await read(channelId, readMessages));
  const list = query.thread ? live.filter((m) => m.parent_id === query.thread) : live;
  const end = query.before === undefined ? list.length : list.findIndex((m) => m.id === query.before);
  // Neither sealed nor a live message of the thread asked for.
  if (end < 0) return undefined;
  const start = Math.max(0, end - query.limit);
  const fromLive = list.slice(start, end).map((m) => ({ ...m, part: null }));
  if (start > 0) return { messages: fromLive, next_before: fromLive[0]!.id };
  return sealedPage(db, read, channelId, query, { after: fromLive, inLive: new Set(live.map((m) => m.id)) });
}

/**
 * The sealed messages that complete a page (before `before`, a position in history, or before the live part),
 * ahead of `after`, the page's live messages. Whether anything is older comes with it.
 */
async function sealedPage(
  db: Queryable,
  read: Read,
  channelId: string,
  query: PageQuery,
  page: { before?: string; after: PagedMessage[]; inLive: Set<string> },
): Promise<Page> {
  const wanted = query.limit - page.after.length;
  const { rows } = await db.query<{ message_id: string; part: number }>(
    `SELECT message_id, part FROM chat_messages
     WHERE channel_id = $1 AND ($2::text IS NULL OR parent_id = $2) AND ($3::bigint IS NULL OR seq < $3)
     ORDER BY seq DESC LIMIT $4`,
    [channelId, query.thread ?? null, page.before ?? null, wanted + 1],
  );
  // A rollover between reading the live part and this seals messages it still held then: listed once, as live.
  const older = rows.slice(0, wanted).reverse().filter((row) => !page.inLive.has(row.message_id));
  const byPart = new Map<number, string[]>();
  for (const row of older) byPart.set(row.part, [...(byPart.get(row.part) ?? []), row.message_id]);
  const found = new Map<string, PagedMessage>();
  for (const [part, ids] of byPart) {
    const messages = await read(segmentName(channelId, part), (doc) => ids.map((id) => readMessageById(doc, id)));
    for (const m of messages) if (m) found.set(m.id, { ...m, part });
  }
  const messages = [...older.flatMap((row) => found.get(row.message_id) ?? []), ...page.after];
  return { messages, next_before: rows.length > wanted && messages.length ? messages[0]!.id : null };
}
