import type { Queryable } from '../../core/index.ts';
import type * as Y from 'yjs';
import { isChannelId } from './names.ts';

/** The generation of a chat's live part a loaded document holds. */
export interface LivePart {
  channelId: string;
  generation: number;
  storageName: string;
  /** The Yjs client id its builder wrote with (none for generation 0). */
  builderClient: number | null;
  sealed: boolean;
}

/** The current generation of a chat's live part; none for a document that is not a chat's live part. */
export async function currentLivePart(pool: Queryable, channelId: string): Promise<LivePart | undefined> {
  if (!isChannelId(channelId)) return undefined;
  const { rows: [row] } = await pool.query<{
    generation: number; storage_name: string; builder_client: string | null; sealed: boolean | null;
  }>(
    `SELECT g.generation, g.storage_name, g.builder_client::text, f.sealed
     FROM chat_generations g LEFT JOIN document_fences f ON f.document_name = g.storage_name
     WHERE g.channel_id = $1 ORDER BY g.generation DESC LIMIT 1`,
    [channelId],
  );
  if (!row) return undefined;
  return {
    channelId, generation: row.generation, storageName: row.storage_name,
    builderClient: row.builder_client === null ? null : Number(row.builder_client), sealed: row.sealed === true,
  };
}

/** Where a document is stored: a chat's live part under its current generation, anything else under its name. */
export async function storageNameFor(db: Queryable, documentName: string): Promise<string> {
  return (await currentLivePart(db, documentName))?.storageName ?? documentName;
}

// The live part each loaded document holds, set when it loads.
const loaded = new WeakMap<Y.Doc, LivePart>();

export function holdsLivePart(doc: Y.Doc, part: LivePart): void {
  loaded.set(doc, part);
}

export function livePartOf(doc: Y.Doc): LivePart | undefined {
  return loaded.get(doc);
}

/** Where a loaded document is stored: its live part's generation, or its own name. */
export function storageNameOf(doc: Y.Doc & { name: string }): string {
  return loaded.get(doc)?.storageName ?? doc.name;
}

/**
 * Deletes the stored rows of a chat's sealed generations: those sealed before a time (kept long enough for their
 * clients), or those holding messages first stored before a time (retention: their text must go too). Their
 * generation rows stay, naming their builders (stale.ts).
 */
export async function forgetGenerations(
  db: Queryable,
  channelId: string,
  which: { sealedBefore: Date } | { holdingBefore: Date },
): Promise<void> {
  const [bySeal, before] = 'sealedBefore' in which ? [true, which.sealedBefore] : [false, which.holdingBefore];
  for (const table of ['document_updates', 'document_snapshots', 'document_writes', 'document_clients']) {
    await db.query(
      `DELETE FROM ${table} WHERE document_name IN (
         SELECT g.storage_name FROM chat_generations g
         JOIN document_fences f ON f.document_name = g.storage_name AND f.sealed
         JOIN channels c ON c.id = g.channel_id
         WHERE g.channel_id = $1
           AND (CASE WHEN $2 THEN f.sealed_at ELSE coalesce(g.oldest_received_at, c.created_at) END) < $3)`,
      [channelId, bySeal, before],
    );
  }
}
