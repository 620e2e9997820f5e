import type pg from 'pg';
import { enqueue } from '../../ai/index.ts';

const STORAGE_TABLES = ['document_updates', 'document_snapshots', 'document_writes', 'document_clients'];

/**
 * Deletes channels with everything stored for them, in the caller's transaction: every document of each (the
 * content, a chat's live generations `<id>/live/<n>` and history segments `<id>/history/<n>`: their log, snapshots,
 * attribution and client ids), its files, index rows (content items, chat messages, segments, generations, @AI
 * claims: by cascade) and indexing jobs. Each document is sealed first (its fence row, which every append locks):
 * sealing waits for the appends in flight, and every later one is refused, so a client still connected or a store
 * at unload cannot write any of it back; the sealed fence rows stay as tombstones naming nothing but the id. Their
 * AI chunks are forgotten by jobs queued here (the indexer finds the channel and files gone and removes their
 * chunks); open connections close when the deletion commits (`channel:<id>`, migration 012).
 */
export async function eraseChannels(tx: pg.PoolClient, channelIds: string[]): Promise<void> {
  if (!channelIds.length) return;
  // Every document name of these channels: the id itself, or the id and a slash (ids are UUIDs: no LIKE wildcards).
  const match = `(document_name = ANY($1::text[]) OR document_name LIKE ANY($2::text[]))`;
  const args = [channelIds, channelIds.map((id) => `${id}/%`)];
  await tx.query(`SELECT 1 FROM document_fences WHERE ${match} ORDER BY document_name FOR UPDATE`, args);
  await tx.query(`UPDATE document_fences SET sealed = true, sealed_at = coalesce(sealed_at, now()) WHERE ${match}`, args);
  // A channel made before its fence existed, or a VOICE channel: sealed all the same, so nothing is ever appended.
  await tx.query(
    `INSERT INTO document_fences (document_name, sealed, sealed_at) SELECT unnest($1::text[]), true, now()
     ON CONFLICT (document_name) DO NOTHING`,
    [channelIds],
  );
  for (const table of STORAGE_TABLES) await tx.query(`DELETE FROM ${table} WHERE ${match}`, args);
  const { rows: files } = await tx.query<{ id: string }>('SELECT id FROM files WHERE channel_id = ANY($1::uuid[])', [channelIds]);
  const fileIds = files.map((f) => f.id);
  await tx.query(
    `DELETE FROM jobs WHERE (kind = 'index_document' AND (dedupe_key = ANY($1::text[]) OR dedupe_key LIKE ANY($2::text[])))
        OR (kind = 'index_file' AND dedupe_key = ANY($3::text[]))`,
    [...args, fileIds],
  );
  await tx.query('DELETE FROM channels WHERE id = ANY($1::uuid[])', [channelIds]);
  for (const name of channelIds) await enqueue(tx, { kind: 'index_document', name });
  for (const fileId of fileIds) await enqueue(tx, { kind: 'index_file', fileId });
}
