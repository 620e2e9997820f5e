import type { Queryable } from '../../server/index.ts';
import type * as Y from 'yjs';

/** The generation of a chat's live part a loaded document holds. */
export interface LivePart {
  channelId: string;
  generation: number;
  storageName: string;
  /** The Yjs client id its builder wrote with (none for generation 0). */
  builderClient: number | null;
  sealed: boolean;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The current generation of a chat's live part; none for a document that is not a chat's live part. */
export async function currentLivePart(pool: Queryable, channelId: string): Promise<LivePart | undefined> {
  if (!uuid.test(channelId)) return undefined;
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
