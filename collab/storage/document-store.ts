import type pg from 'pg';
import * as Y from 'yjs';
import { inTransaction } from '../../server/index.ts';
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
export function createDocumentStore(pool: pg.Pool, keyring: Keyring, compactionBatch = 5000) {
  const open = (name: string, row: Row) => keyring.open({ keyId: row.key_id, payload: row.payload }, name);

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
    // One snapshot of the database for both reads: a compaction committing between them would otherwise make
    // the old snapshot and the shortened log miss what was folded.
    const [snapshot, log] = await inTransaction(pool, async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      return [
        await tx.query<Row>('SELECT key_id, payload FROM document_snapshots WHERE document_name = $1', [name]),
        await tx.query<Row>('SELECT key_id, payload FROM document_updates WHERE document_name = $1 ORDER BY id', [
          name,
        ]),
      ];
    });
    return {
      parts: [...snapshot.rows, ...log.rows].map((row) => open(name, row)),
      logLength: log.rows.length,
      logBytes: log.rows.reduce((sum, row) => sum + row.payload.length, 0),
    };
  }

  /** Folds up to `compactionBatch` log entries into the snapshot; repeat until `merged` is 0. */
  async function compactOnce(name: string, client: pg.PoolClient): Promise<CompactionResult> {
    // One compactor per document across all instances; appends go on meanwhile (they only insert).
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 42))', [name]);
    const snapshot = await client.query<Row>(
      'SELECT key_id, payload FROM document_snapshots WHERE document_name = $1',
      [name],
    );
    const log = await client.query<Row & { id: string }>(
      'SELECT id, key_id, payload FROM document_updates WHERE document_name = $1 ORDER BY id LIMIT $2',
      [name, compactionBatch],
    );
    if (!log.rows.length) return { merged: 0, snapshotBytes: snapshot.rows[0]?.payload.length ?? 0 };
    const doc = new Y.Doc({ gc: true });
    try {
      if (snapshot.rows[0]) Y.applyUpdate(doc, open(name, snapshot.rows[0]));
      for (const row of log.rows) Y.applyUpdate(doc, open(name, row));
      const sealed = keyring.seal(Y.encodeStateAsUpdate(doc), name);
      const lastId = log.rows.at(-1)!.id;
      await client.query(
        `INSERT INTO document_snapshots (document_name, key_id, payload, last_update_id, updated_at)
         VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (document_name) DO UPDATE
           SET key_id = EXCLUDED.key_id, payload = EXCLUDED.payload, last_update_id = EXCLUDED.last_update_id,
               updated_at = now()`,
        [name, sealed.keyId, sealed.payload, lastId],
      );
      // Exactly the rows folded in: ids are taken at insert but commit in any order, so a row with a smaller id
      // may have committed after the read above.
      await client.query('DELETE FROM document_updates WHERE id = ANY($1::bigint[])', [log.rows.map((r) => r.id)]);
      return { merged: log.rows.length, snapshotBytes: sealed.payload.length };
    } finally {
      doc.destroy();
    }
  }

  async function compact(name: string): Promise<CompactionResult> {
    const total = { merged: 0, snapshotBytes: 0 };
    for (;;) {
      const step = await inTransaction(pool, (client) => compactOnce(name, client));
      total.merged += step.merged;
      total.snapshotBytes = step.snapshotBytes;
      if (step.merged < compactionBatch) return total;
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

  return { append, load, compact, rotateKeys };
}

export type DocumentStore = ReturnType<typeof createDocumentStore>;
