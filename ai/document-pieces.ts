import type pg from 'pg';
import * as Y from 'yjs';
import { createDocumentStore, storageNameFor, type Keyring } from '../collab/index.ts';
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
 * Reads stored documents (what the server has acknowledged, the same in any process) as text pieces: a channel's
 * by its id, a chat segment by its name. Through `storage`, document storage's own pool, so big loads never hold
 * up requests.
 */
export function documentReader(pool: pg.Pool, storage: pg.Pool, keyring: Keyring) {
  const documents = createDocumentStore(storage, keyring);
  return async function pieces(name: string, type: string): Promise<Piece[]> {
    const stored = await documents.load(await storageNameFor(pool, name));
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
