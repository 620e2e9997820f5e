import { createHash } from 'node:crypto';
import type { Keyring } from '../../collab/index.ts';
import type pg from 'pg';
import { inTransaction, type Queryable } from '../../core/db/database.ts';
import type { FileContentType } from './sniff.ts';

// Associated data binds each sealed value to its row and column: a payload copied to another file's row, or
// into the text column, fails to decrypt instead of being served as that file.
const payloadAad = (fileId: string) => `file:${fileId}`;
const textAad = (fileId: string) => `file-text:${fileId}`;

export const fileColumns = `id, channel_id, uploader_id, filename, content_type, size_bytes::integer AS size_bytes,
  created_at, page_count`;

export interface NewFile {
  id: string;
  channelId: string;
  uploaderId: string;
  filename: string;
  contentType: FileContentType;
  bytes: Buffer;
  /** A PDF's text, page by page. */
  pages?: string[];
}

/** Stores a file, its bytes and (for a PDF) its extracted text sealed under the current key; returns its row. */
export async function insertFile(db: Queryable, keyring: Keyring, file: NewFile) {
  const payload = keyring.seal(file.bytes, payloadAad(file.id));
  const text = file.pages && keyring.seal(Buffer.from(JSON.stringify(file.pages)), textAad(file.id));
  const { rows } = await db.query(
    `INSERT INTO files (id, channel_id, uploader_id, filename, content_type, size_bytes, sha256, key_id, payload,
                        text_key_id, text_payload, page_count)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${fileColumns}`,
    [
      file.id, file.channelId, file.uploaderId, file.filename, file.contentType, file.bytes.length,
      createHash('sha256').update(file.bytes).digest(), payload.keyId, payload.payload, text?.keyId ?? null,
      text?.payload ?? null, file.pages?.length ?? null,
    ],
  );
  return rows[0];
}

export interface StoredFile {
  filename: string;
  contentType: FileContentType;
  sha256: Buffer;
  bytes: Buffer;
}

/** A file's original bytes, decrypted; undefined when there is no such file. */
export async function readFileBytes(db: Queryable, keyring: Keyring, fileId: string): Promise<StoredFile | undefined> {
  const { rows } = await db.query<{
    filename: string; content_type: FileContentType; sha256: Buffer; key_id: string; payload: Buffer;
  }>('SELECT filename, content_type, sha256, key_id, payload FROM files WHERE id = $1', [fileId]);
  const row = rows[0];
  if (!row) return undefined;
  const bytes = Buffer.from(keyring.open({ keyId: row.key_id, payload: row.payload }, payloadAad(fileId)));
  return { filename: row.filename, contentType: row.content_type, sha256: row.sha256, bytes };
}

export interface FileText {
  channelId: string;
  filename: string;
  /** The whole text; a PDF's pages are separated by a blank line. */
  text: string;
  /** The text page by page (`pages[0]` is page 1); a text file is one page. */
  pages: string[];
}

/** What the indexer reads: a file's text, decrypted; undefined when the file is gone. */
export async function readFileText(db: Queryable, keyring: Keyring, fileId: string): Promise<FileText | undefined> {
  const { rows } = await db.query<{
    channel_id: string; filename: string; text_key_id: string | null; text_payload: Buffer | null;
    key_id: string | null; payload: Buffer | null;
  }>(
    // A text file's text is its payload; a PDF's payload is not needed, so it is not fetched.
    `SELECT channel_id, filename, text_key_id, text_payload,
            CASE WHEN text_payload IS NULL THEN key_id END AS key_id,
            CASE WHEN text_payload IS NULL THEN payload END AS payload
       FROM files WHERE id = $1`,
    [fileId],
  );
  const row = rows[0];
  if (!row) return undefined;
  const base = { channelId: row.channel_id, filename: row.filename };
  if (row.text_key_id && row.text_payload) {
    const sealed = { keyId: row.text_key_id, payload: row.text_payload };
    const pages = JSON.parse(Buffer.from(keyring.open(sealed, textAad(fileId))).toString('utf8')) as string[];
    return { ...base, text: pages.join('\n\n'), pages };
  }
  const text = new TextDecoder().decode(keyring.open({ keyId: row.key_id!, payload: row.payload! }, payloadAad(fileId)));
  return { ...base, text, pages: [text] };
}

/**
 * Re-encrypts every file sealed under an older key with the current one (`npm run keys:rotate`). One file per
 * transaction, since a file may be large; it can be interrupted and run again.
 */
export async function rotateFileKeys(pool: pg.Pool, keyring: Keyring): Promise<{ files: number }> {
  const reseal = (keyId: string, payload: Buffer, aad: string) => keyring.seal(keyring.open({ keyId, payload }, aad), aad);
  let files = 0;
  for (;;) {
    const { rows } = await pool.query<{ id: string }>(
      'SELECT id FROM files WHERE key_id <> $1 OR text_key_id <> $1 ORDER BY id LIMIT 100',
      [keyring.currentKeyId],
    );
    if (!rows.length) return { files };
    for (const { id } of rows) {
      await inTransaction(pool, async (tx) => {
        const { rows: [row] } = await tx.query<{
          key_id: string; payload: Buffer; text_key_id: string | null; text_payload: Buffer | null;
        }>('SELECT key_id, payload, text_key_id, text_payload FROM files WHERE id = $1 FOR UPDATE', [id]);
        if (!row) return;
        const payload = reseal(row.key_id, row.payload, payloadAad(id));
        const text = row.text_key_id && row.text_payload
          ? reseal(row.text_key_id, row.text_payload, textAad(id))
          : undefined;
        await tx.query(
          'UPDATE files SET key_id = $2, payload = $3, text_key_id = $4, text_payload = $5 WHERE id = $1',
          [id, payload.keyId, payload.payload, text?.keyId ?? null, text?.payload ?? null],
        );
        files++;
      });
    }
  }
}
