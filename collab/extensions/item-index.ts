import type { Connection, Extension } from '@hocuspocus/server';
import type pg from 'pg';
import type * as Y from 'yjs';
import type { Logger } from '../../core/index.ts';
import { readBoard } from '../shapes/kanban.ts';
import { readTasks } from '../shapes/tasks.ts';
import { holdAcknowledgementFor } from './persistence.ts';
import { isChannelId } from '../history/names.ts';
import type { CollabContext } from './access.ts';

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
 * Keeps `content_items` (item id → channel) in step with the documents as they change, so items that clients
 * created in the document are reachable over REST too, and deleted ones stop being. A change that adds or removes
 * items is written at once, and the acknowledgement of the client update that made it waits for it: a client told
 * "saved" can use the new item over REST straight away.
 */
export function itemIndex(pool: pg.Pool, log: Logger): Extension {
  const types = new Map<string, string | undefined>();
  // The item ids last written for each loaded document, to write only when they change.
  const written = new WeakMap<Y.Doc, string>();
  // One write at a time per document, in order.
  const writing = new WeakMap<Y.Doc, Promise<void>>();

  function sync(documentName: string, document: Y.Doc): Promise<void> | undefined {
    const type = types.get(documentName);
    if (type !== 'TODO' && type !== 'KANBAN') return undefined;
    const items = itemsOf(type, document);
    const key = items.map(([id, kind]) => `${id}:${kind}`).sort().join(',');
    if (written.get(document) === key) return undefined;
    written.set(document, key);
    const write = (writing.get(document) ?? Promise.resolve()).then(async () => {
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
        written.delete(document);
        log.warn({ err, document: documentName }, 'item index update failed');
      }
    });
    writing.set(document, write);
    return write;
  }

  return {
    extensionName: 'item-index',
    priority: 5,
    async afterLoadDocument({ documentName, document, context }) {
      if (!isChannelId(documentName)) return;
      // A connection's context says what the channel is; a direct connection (REST, jobs) has none.
      const known = (context as Partial<CollabContext> | undefined)?.channelType;
      if (known) types.set(documentName, known);
      if (!types.has(documentName)) {
        const { rows } = await pool.query<{ type: string }>('SELECT type FROM channels WHERE id = $1', [documentName]);
        types.set(documentName, rows[0]?.type);
      }
      await sync(documentName, document);
    },
    async onChange({ documentName, document, transactionOrigin }) {
      const write = sync(documentName, document);
      const origin = transactionOrigin as { source?: string; connection?: Connection } | undefined;
      if (write && origin?.source === 'connection' && origin.connection) holdAcknowledgementFor(origin.connection, write);
    },
    async afterUnloadDocument({ documentName }) {
      types.delete(documentName);
    },
  };
}
