import { chat, segmentName, storageNameFor, type Collab } from '../../collab/index.ts';
import type { Queryable } from '../../core/db/database.ts';

export interface Writer {
  /** Who sent the update that created the message (null: the server on its own, e.g. a rollover's copy). */
  userId: string | null;
  writtenAt: Date;
}

/** The document holding a part of a chat: the live part (null) under the channel id, a segment under its own name. */
export const partName = (channelId: string, part: number | null) => (part === null ? channelId : segmentName(channelId, part));

/**
 * Who wrote each message of one part of a chat, as the server recorded it (`document_writes`), not as the message
 * claims (`author_id`): the message map's Yjs item id lies in the inserted ranges of exactly one accepted update.
 */
export async function messageWriters(
  db: Queryable,
  collab: Collab,
  channelId: string,
  part: number | null,
  messageIds: string[],
): Promise<Map<string, Writer>> {
  const name = partName(channelId, part);
  const items = await collab.read(name, (doc) => chat.messageItemIds(doc, messageIds));
  const ids = [...items.keys()];
  if (!ids.length) return new Map();
  const { rows } = await db.query<{ n: string; user_id: string | null; written_at: Date }>(
    `SELECT q.n::text, w.user_id, w.written_at
       FROM unnest($2::bigint[], $3::bigint[]) WITH ORDINALITY AS q(client, clock, n)
       CROSS JOIN LATERAL (
         SELECT w.user_id, w.written_at FROM document_writes w, jsonb_array_elements(w.inserted) r
          WHERE w.document_name = $1 AND (r->>0)::bigint = q.client
            AND (r->>1)::bigint <= q.clock AND q.clock < (r->>2)::bigint
          ORDER BY w.id LIMIT 1) w`,
    [await storageNameFor(db, name), ids.map((id) => items.get(id)!.client), ids.map((id) => items.get(id)!.clock)],
  );
  return new Map(rows.map((r) => [ids[Number(r.n) - 1]!, { userId: r.user_id, writtenAt: r.written_at }]));
}
