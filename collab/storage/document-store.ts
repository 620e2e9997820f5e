import type pg from 'pg';
import * as Y from 'yjs';
import { inTransaction } from '../../server/index.ts';
import { fairQueue } from './fair-queue.ts';
import type { Keyring } from './keyring.ts';

export interface StoredState {
  /** The snapshot (if any) then the log, in order: apply them one by one (much faster in Yjs than merging). */
  parts: Uint8Array[];
  /** Updates in the log not yet folded into the snapshot, and their size. */
  logLength: number;
  logBytes: number;
}

export interface CompactionResult {
  /** Log entries folded into the snapshot. */
  merged: number;
  snapshotBytes: number;
}

/** Who wrote an appended update (null: the server on its own), and the Yjs item ids it made and deleted. */
export interface WriteRecord {
  userId: string | null;
  /** [client, first clock, end clock] */
  inserted: [number, number, number][];
  /** [client, clock, length] */
  deleted: [number, number, number][];
  /** Yjs client ids the writer used for the first time in this document. */
  newClients: number[];
}

/** The ids of the leading rows whose sizes add up to at most `budget` bytes (always at least one row). */
function withinBytes(rows: { id: string; bytes: number }[], budget: number): string[] {
  const ids: string[] = [];
  let total = 0;
  for (const row of rows) {
    total += Number(row.bytes);
    if (ids.length && total > budget) break;
    ids.push(row.id);
  }
  return ids;
}

interface Row {
  id?: string;
  key_id: string;
  payload: Buffer;
}

/**
 * A document's durable state in PostgreSQL: an append-only log of encrypted updates plus one encrypted snapshot.
 * Appends are single inserts, so an update is durable once `append` resolves. Compaction folds the log into the
 * snapshot through a garbage-collecting Y.Doc, so content deleted in the document is gone from storage too.
 */
export function createDocumentStore(
  pool: pg.Pool,
  keyring: Keyring,
  compactionBatch = 5000,
  compactionBatchBytes = 8 * 1024 * 1024,
) {
  const open = (name: string, row: Row) => keyring.open({ keyId: row.key_id, payload: row.payload }, name);
  // Documents take turns at the storage connections (see fairQueue); compaction takes one turn per transaction.
  const inTurn = fairQueue(pool.options.max ?? 10);

  /**
   * Appends an update to the log, with who wrote it: the update, its attribution and the writer's new client ids
   * are one statement, so they commit together.
   */
  async function append(name: string, update: Uint8Array, write: WriteRecord): Promise<void> {
    const sealed = keyring.seal(update, name);
    await pool.query(
      `WITH logged AS (
         INSERT INTO document_updates (document_name, key_id, payload) VALUES ($1, $2, $3)
       ), attributed AS (
         INSERT INTO document_writes (document_name, user_id, bytes, inserted, deleted) VALUES ($1, $4, $5, $6, $7)
       )
       INSERT INTO document_clients (document_name, client_id, user_id)
       SELECT $1, client, $4 FROM unnest($8::bigint[]) AS client
       ON CONFLICT DO NOTHING`,
      [
        name, sealed.keyId, sealed.payload, write.userId, update.length, JSON.stringify(write.inserted),
        JSON.stringify(write.deleted), write.newClients.map(String),
      ],
    );
  }

  async function load(name: string): Promise<StoredState> {
    // One statement, so both reads see one snapshot of the database (a compaction committing between two reads
    // would make the old snapshot and the shortened log miss what was folded), in one round trip.
    const { rows } = await pool.query<Row & { logged: boolean }>(
      `SELECT logged, key_id, payload FROM (
         SELECT false AS logged, 0::bigint AS id, key_id, payload FROM document_snapshots WHERE document_name = $1
         UNION ALL
         SELECT true, id, key_id, payload FROM document_updates WHERE document_name = $1
       ) stored ORDER BY logged, id`,
      [name],
    );
    const log = rows.filter((row) => row.logged);
    return {
      parts: rows.map((row) => open(name, row)),
      logLength: log.length,
      logBytes: log.reduce((sum, row) => sum + row.payload.length, 0),
    };
  }

  /**
   * Folds the oldest part of the log (at most `compactionBatch` entries and about `compactionBatchBytes`) into the
   * snapshot, in three steps so that no transaction is open while Yjs works: read the snapshot and the batch in one
   * consistent view, fold them with no connection held, then write under the per-document advisory lock if the
   * snapshot is still the one read (its row version, `xmin`, unchanged). On PGlite every statement runs on the one
   * session, so short transactions are what lets requests and other documents in between.
   */
  async function compactOnce(name: string): Promise<(CompactionResult & { more: boolean }) | 'raced'> {
    const read = await inTurn(name, () => inTransaction(pool, async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      const { rows: [snapshot] } = await tx.query<Row & { version: string }>(
        'SELECT key_id, payload, xmin::text AS version FROM document_snapshots WHERE document_name = $1',
        [name],
      );
      const { rows: sizes } = await tx.query<{ id: string; bytes: number }>(
        'SELECT id, octet_length(payload) AS bytes FROM document_updates WHERE document_name = $1 ORDER BY id LIMIT $2',
        [name, compactionBatch],
      );
      const ids = withinBytes(sizes, compactionBatchBytes);
      const { rows: log } = ids.length
        ? await tx.query<Row & { id: string }>(
            'SELECT id, key_id, payload FROM document_updates WHERE id = ANY($1::bigint[]) ORDER BY id',
            [ids],
          )
        : { rows: [] };
      return { snapshot, log, more: ids.length === compactionBatch || ids.length < sizes.length };
    }));
    const { snapshot, log, more } = read;
    if (!log.length) return { merged: 0, snapshotBytes: snapshot?.payload.length ?? 0, more: false };
    const sealed = keyring.seal(fold(name, snapshot, log), name);
    return inTurn(name, () => inTransaction(pool, async (tx) => {
      // One writer per document across all instances; appends go on meanwhile (they only insert).
      await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 42))', [name]);
      const { rows: [current] } = await tx.query<{ version: string }>(
        'SELECT xmin::text AS version FROM document_snapshots WHERE document_name = $1',
        [name],
      );
      if (current?.version !== snapshot?.version) return 'raced' as const;
      await tx.query(
        `INSERT INTO document_snapshots (document_name, key_id, payload, last_update_id, updated_at)
         VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (document_name) DO UPDATE
           SET key_id = EXCLUDED.key_id, payload = EXCLUDED.payload, last_update_id = EXCLUDED.last_update_id,
               updated_at = now()`,
        [name, sealed.keyId, sealed.payload, log.at(-1)!.id],
      );
      // Exactly the rows folded in: ids are taken at insert but commit in any order, so a row with a smaller id
      // may have committed after the read above.
      await tx.query('DELETE FROM document_updates WHERE id = ANY($1::bigint[])', [log.map((r) => r.id)]);
      return { merged: log.length, snapshotBytes: sealed.payload.length, more };
    }));
  }

  /** The snapshot with the log rows applied, through a garbage-collecting Y.Doc: deleted content is dropped. */
  function fold(name: string, snapshot: Row | undefined, log: Row[]): Uint8Array {
    const doc = new Y.Doc({ gc: true });
    try {
      if (snapshot) Y.applyUpdate(doc, open(name, snapshot));
      for (const row of log) Y.applyUpdate(doc, open(name, row));
      return Y.encodeStateAsUpdate(doc);
    } finally {
      doc.destroy();
    }
  }

  async function compact(name: string): Promise<CompactionResult> {
    const total = { merged: 0, snapshotBytes: 0 };
    for (;;) {
      const step = await compactOnce(name);
      // Another instance compacted meanwhile: what was read is stale, so read again.
      if (step === 'raced') continue;
      total.merged += step.merged;
      total.snapshotBytes = step.snapshotBytes;
      if (!step.more) return total;
    }
  }

  /**
   * Re-encrypts every stored row under the current key, in batches; rows already under it are skipped, so an
   * interrupted rotation simply resumes. Snapshots are rewritten under the compaction lock.
   */
  async function rotateKeys(batch = 200): Promise<{ updates: number; snapshots: number }> {
    const current = keyring.currentKeyId;
    let updates = 0;
    for (;;) {
      const { rows } = await pool.query<Row & { id: string; document_name: string }>(
        'SELECT id, document_name, key_id, payload FROM document_updates WHERE key_id <> $1 ORDER BY id LIMIT $2',
        [current, batch],
      );
      for (const row of rows) {
        const sealed = keyring.seal(open(row.document_name, row), row.document_name);
        await pool.query('UPDATE document_updates SET key_id = $2, payload = $3 WHERE id = $1', [
          row.id, sealed.keyId, sealed.payload,
        ]);
      }
      updates += rows.length;
      if (rows.length < batch) break;
    }
    let snapshots = 0;
    for (;;) {
      const { rows } = await pool.query<{ document_name: string }>(
        'SELECT document_name FROM document_snapshots WHERE key_id <> $1 LIMIT $2',
        [current, batch],
      );
      for (const { document_name: name } of rows) {
        await inTransaction(pool, async (client) => {
          await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 42))', [name]);
          const { rows: [row] } = await client.query<Row>(
            'SELECT key_id, payload FROM document_snapshots WHERE document_name = $1 FOR UPDATE',
            [name],
          );
          if (!row || row.key_id === current) return;
          const sealed = keyring.seal(open(name, row), name);
          await client.query('UPDATE document_snapshots SET key_id = $2, payload = $3 WHERE document_name = $1', [
            name, sealed.keyId, sealed.payload,
          ]);
        });
      }
      snapshots += rows.length;
      if (rows.length < batch) break;
    }
    return { updates, snapshots };
  }

  return {
    append: (...args: Parameters<typeof append>) => inTurn(args[0], () => append(...args)),
    load: (name: string) => inTurn(name, () => load(name)),
    compact,
    rotateKeys,
  };
}

export type DocumentStore = ReturnType<typeof createDocumentStore>;
