import type pg from 'pg';
import * as Y from 'yjs';
import { inTransaction } from '../../core/index.ts';
import { fairQueue } from './fair-queue.ts';
import { groupCommit } from './group-commit.ts';
import type { Keyring, Sealed } from './keyring.ts';

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

/** One update waiting to be appended. */
interface Append {
  name: string;
  sealed: Sealed;
  /** The update's size before encryption. */
  bytes: number;
  write: WriteRecord;
}

interface Row {
  id?: string;
  key_id: string;
  payload: Buffer;
}

/**
 * A document's durable state in PostgreSQL: an append-only log of encrypted updates plus one encrypted snapshot.
 * Appends are group-committed (several documents' appends in one statement) and an update is durable once its
 * `append` resolves. Compaction folds the log into the
 * snapshot through a garbage-collecting Y.Doc, so content deleted in the document is gone from storage too.
 */
export function createDocumentStore(
  pool: pg.Pool,
  keyring: Keyring,
  compactionBatch = 5000,
  compactionBatchBytes = 8 * 1024 * 1024,
) {
  const open = (name: string, row: Row) => keyring.open({ keyId: row.key_id, payload: row.payload }, name);
  // Documents take turns at the storage connections for loads and compaction (see fairQueue; compaction takes one
  // turn per transaction), leaving one connection to the appends' group commit when there is more than one.
  const connections = pool.options.max ?? 10;
  const inTurn = fairQueue(Math.max(1, connections - 1));

  /**
   * Writes a batch of appends as one statement, so they commit together: each update, its attribution and its
   * writer's new client ids. The payloads travel as one binary parameter (cut apart by offset in SQL) rather than
   * a bytea array, which pg would send as hex text, twice their size. Rows are inserted in batch order, so a
   * document's log ids follow the order of its appends.
   */
  async function insert(batch: Append[]): Promise<void> {
    let offset = 1;
    const starts = batch.map((a) => {
      const start = offset;
      offset += a.sealed.payload.length;
      return start;
    });
    const clients = batch.flatMap((a) => a.write.newClients.map((client) => ({ a, client })));
    await pool.query(
      `WITH batch AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::uuid[], $6::int[], $7::jsonb[], $8::jsonb[])
           WITH ORDINALITY AS b(document_name, key_id, start, length, user_id, bytes, inserted, deleted, n)
       ), logged AS (
         INSERT INTO document_updates (document_name, key_id, payload)
         SELECT document_name, key_id, substring($9::bytea FROM start FOR length) FROM batch ORDER BY n
       ), attributed AS (
         INSERT INTO document_writes (document_name, user_id, bytes, inserted, deleted)
         SELECT document_name, user_id, bytes, inserted, deleted FROM batch ORDER BY n
       )
       INSERT INTO document_clients (document_name, client_id, user_id)
       SELECT document_name, client_id, user_id
       FROM unnest($10::text[], $11::bigint[], $12::uuid[]) WITH ORDINALITY AS c(document_name, client_id, user_id, n)
       ORDER BY n
       ON CONFLICT DO NOTHING`,
      [
        batch.map((a) => a.name), batch.map((a) => a.sealed.keyId), starts, batch.map((a) => a.sealed.payload.length),
        batch.map((a) => a.write.userId), batch.map((a) => a.bytes), batch.map((a) => JSON.stringify(a.write.inserted)),
        batch.map((a) => JSON.stringify(a.write.deleted)), Buffer.concat(batch.map((a) => a.sealed.payload)),
        clients.map((c) => c.a.name), clients.map((c) => String(c.client)), clients.map((c) => c.a.write.userId),
      ],
    );
  }

  // Appends that arrive while a batch is being written go out together in the next one (see groupCommit).
  const appends = groupCommit<Append>({
    write: insert,
    bytes: (a) => a.sealed.payload.length,
    maxItems: 256,
    maxBytes: 1024 * 1024,
  });

  /**
   * Appends an update to the log, with who wrote it. Resolves once it has committed (with its attribution and
   * the writer's new client ids); rejects with its own row's error if that row was refused.
   */
  function append(name: string, update: Uint8Array, write: WriteRecord): Promise<void> {
    return appends.submit(name, { name, sealed: keyring.seal(update, name), bytes: update.length, write });
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
    // After the document's appends made so far, so that what a compaction is asked for after them includes them.
    await appends.settled(name);
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
    append,
    // After the document's appends made so far, so a load sees every update appended before it.
    load: (name: string) => appends.settled(name).then(() => inTurn(name, () => load(name))),
    compact,
    rotateKeys,
  };
}

export type DocumentStore = ReturnType<typeof createDocumentStore>;
