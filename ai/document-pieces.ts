import type pg from 'pg';
import * as Y from 'yjs';
import { createDocumentStore, parseSegmentName, type Keyring } from '../collab/index.ts';
import { piecesOf, type Piece } from './chunking.ts';

/** Names of the users a document mentions (authors, assignees), for text a reader can follow. */
async function userNames(pool: pg.Pool, doc: Y.Doc): Promise<Map<string, string>> {
  const ids = new Set<string>();
  const collect = (m: unknown, field: string) => {
    const id = m instanceof Y.Map ? m.get(field) : undefined;
    if (typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id)) ids.add(id);
  };
  doc.getArray('messages').forEach((m) => collect(m, 'author_id'));
  doc.getMap('tasks').forEach((t) => collect(t, 'assignee_id'));
  if (!ids.size) return new Map();
  const { rows } = await pool.query<{ id: string; username: string }>('SELECT id, username FROM users WHERE id = ANY($1::uuid[])', [[...ids]]);
  return new Map(rows.map((r) => [r.id, r.username]));
}

/**
 * Where a document is stored: a chat's live part under its newest generation (`chat_generations`, the channel id
 * itself before any rollover), anything else (a segment, another channel type) under its own name.
 */
async function storageName(pool: pg.Pool, name: string): Promise<string> {
  if (parseSegmentName(name)) return name;
  const { rows } = await pool.query<{ storage_name: string }>(
    'SELECT storage_name FROM chat_generations WHERE channel_id = $1 ORDER BY generation DESC LIMIT 1', [name],
  );
  return rows[0]?.storage_name ?? name;
}

/**
 * Reads stored documents (what the server has acknowledged, the same in any process) as text pieces: a channel's
 * by its id, a chat segment by its name. Through `storage`, document storage's own pool, so big loads never hold
 * up requests.
 */
export function documentReader(pool: pg.Pool, storage: pg.Pool, keyring: Keyring) {
  const documents = createDocumentStore(storage, keyring);
  return async function pieces(name: string, type: string): Promise<Piece[]> {
    const stored = await documents.load(await storageName(pool, name));
    const doc = new Y.Doc();
    try {
      doc.transact(() => {
        for (const part of stored.parts) Y.applyUpdate(doc, part);
      });
      return piecesOf(type, doc, await userNames(pool, doc));
    } finally {
      doc.destroy();
    }
  };
}
