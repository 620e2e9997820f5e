import type { Extension } from '@hocuspocus/server';
import type pg from 'pg';
import type * as Y from 'yjs';
import type { Logger } from '../../server/index.ts';
import { readBoard } from '../shapes/kanban.ts';
import { readTasks } from '../shapes/tasks.ts';

/** The ids of tasks, columns and cards a document holds, by kind. */
function itemsOf(type: string, doc: Y.Doc): [string, string][] {
  if (type === 'TODO') return readTasks(doc).map((t) => [t.id, 'task']);
  if (type === 'KANBAN') {
    return readBoard(doc).columns.flatMap((c) => [[c.id, 'column'], ...c.cards.map((card) => [card.id, 'card'])]) as [
      string,
      string,
    ][];
  }
  return [];
}

/**
 * Keeps `content_items` (item id → channel) in step with the documents whenever one is stored, so items that
 * clients created in the document are reachable over REST too, and deleted ones stop being.
 */
export function itemIndex(pool: pg.Pool, log: Logger): Extension {
  const types = new Map<string, string | undefined>();
  return {
    extensionName: 'item-index',
    priority: 5,
    async onStoreDocument({ documentName, document }) {
      if (!types.has(documentName)) {
        const { rows } = await pool.query<{ type: string }>('SELECT type FROM channels WHERE id = $1', [documentName]);
        types.set(documentName, rows[0]?.type);
      }
      const type = types.get(documentName);
      if (type !== 'TODO' && type !== 'KANBAN') return;
      const items = itemsOf(type, document);
      try {
        await pool.query(
          `WITH live AS (SELECT unnest($2::text[]) AS item_id, unnest($3::text[]) AS kind),
                gone AS (DELETE FROM content_items c WHERE c.channel_id = $1
                          AND NOT EXISTS (SELECT 1 FROM live WHERE live.item_id = c.item_id))
           INSERT INTO content_items (item_id, channel_id, kind) SELECT item_id, $1, kind FROM live
           ON CONFLICT (channel_id, item_id) DO NOTHING`,
          [documentName, items.map(([id]) => id), items.map(([, kind]) => kind)],
        );
      } catch (err) {
        log.warn({ err, document: documentName }, 'item index update failed');
      }
    },
    async afterUnloadDocument({ documentName }) {
      types.delete(documentName);
    },
  };
}
