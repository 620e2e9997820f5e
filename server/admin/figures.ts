import type pg from 'pg';
import { chat, type Collab } from '../../collab/index.ts';

export interface Figures {
  users: { total: number; active: number; superusers: number };
  /** Accounts that logged in or refreshed a token (every client does while in use) within 7 and 30 days. */
  activeUsers: { days7: number; days30: number };
  /** Messages first received each day of the last 30 (UTC days, oldest first). */
  messagesPerDay: { day: string; count: number }[];
  /** Stored bytes per group (DMs under null): documents (log and snapshots) and files, as stored (encrypted). */
  storage: { group_id: string | null; group_name: string | null; document_bytes: number; file_bytes: number; files: number }[];
}

const DAYS = 30;

/**
 * Messages per day: those sealed into history segments are in the `chat_messages` index with their receipt time;
 * the rest are in live parts, read (through collab) only for chats written to in the window, so the cost follows
 * recent activity and each live part is bounded (COLLAB_CHAT_LIVE_MESSAGES).
 */
async function messagesPerDay(db: pg.Pool, collab: Collab): Promise<Figures['messagesPerDay']> {
  const since = new Date(Date.now() - DAYS * 86_400_000);
  const counts = new Map<string, number>();
  for (let i = DAYS - 1; i >= 0; i--) counts.set(new Date(Date.now() - i * 86_400_000).toISOString().slice(0, 10), 0);
  const add = (day: string, n: number) => {
    if (counts.has(day)) counts.set(day, counts.get(day)! + n);
  };
  const { rows: sealed } = await db.query<{ day: string; count: number }>(
    `SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::int AS count FROM chat_messages
      WHERE received_at >= $1 GROUP BY 1`,
    [since],
  );
  for (const row of sealed) add(row.day, row.count);
  const { rows: chats } = await db.query<{ id: string }>(
    `SELECT c.id FROM channels c WHERE c.type IN ('TEXT', 'DM') AND EXISTS (
       SELECT 1 FROM chat_generations g JOIN document_writes w ON w.document_name = g.storage_name
        WHERE g.channel_id = c.id AND w.written_at >= $1)`,
    [since],
  );
  for (const { id } of chats) {
    const received = await collab.read(id, (doc) => chat.readMessages(doc).map((m) => m.received_at));
    for (const at of received) if (at && at >= since.toISOString()) add(at.slice(0, 10), 1);
  }
  return [...counts].map(([day, count]) => ({ day, count }));
}

export async function figures(db: pg.Pool, collab: Collab): Promise<Figures> {
  const { rows: [users] } = await db.query<Figures['users']>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE is_active)::int AS active,
            count(*) FILTER (WHERE is_superuser AND is_active)::int AS superusers FROM users WHERE NOT is_bot`,
  );
  const { rows: [active] } = await db.query<Figures['activeUsers']>(
    `SELECT count(DISTINCT user_id) FILTER (WHERE created_at >= now() - interval '7 days')::int AS "days7",
            count(DISTINCT user_id)::int AS "days30"
       FROM refresh_tokens WHERE created_at >= now() - interval '30 days'`,
  );
  const { rows: storage } = await db.query<Figures['storage'][number]>(
    `WITH documents AS (
       SELECT left(document_name, 36) AS channel, octet_length(payload) AS bytes FROM document_updates
       UNION ALL SELECT left(document_name, 36), octet_length(payload) FROM document_snapshots
     ), per_channel AS (
       SELECT c.group_id, coalesce(sum(d.bytes), 0)::float8 AS document_bytes, 0::float8 AS file_bytes, 0 AS files
         FROM documents d JOIN channels c ON c.id::text = d.channel GROUP BY c.group_id
       UNION ALL
       SELECT c.group_id, 0, coalesce(sum(octet_length(f.payload) + coalesce(octet_length(f.text_payload), 0)), 0)::float8, count(*)::int
         FROM files f JOIN channels c ON c.id = f.channel_id GROUP BY c.group_id
     )
     SELECT p.group_id, g.name AS group_name, sum(p.document_bytes)::float8 AS document_bytes,
            sum(p.file_bytes)::float8 AS file_bytes, sum(p.files)::int AS files
       FROM per_channel p LEFT JOIN groups g ON g.id = p.group_id
      GROUP BY p.group_id, g.name ORDER BY sum(p.document_bytes) + sum(p.file_bytes) DESC`,
  );
  return { users: users!, activeUsers: active!, messagesPerDay: await messagesPerDay(db, collab), storage };
}
