import type { Extension } from '@hocuspocus/server';
import type { Logger } from '../../server/index.ts';
import type { DocumentStore } from '../storage/document-store.ts';

// y-protocols sync message types that carry document updates.
const SYNC_STEP_2 = 1;
const SYNC_UPDATE = 2;

/** An update with no structs and no deletions, as a client with nothing new sends after syncing. */
function isEmptyUpdate(update: Uint8Array): boolean {
  return update.length === 2 && update[0] === 0 && update[1] === 0;
}

export class StorageUnavailable extends Error {
  readonly reason = 'document storage unavailable';
}

export interface Persistence extends Extension {
  /** Resolves once every change made on this instance to `documentName` so far is stored. */
  flush(documentName: string): Promise<void>;
}

/**
 * Durable documents. A client's update is appended to the log inside `beforeSync`, which Hocuspocus awaits
 * before it applies the update and acknowledges it, so an acknowledged update is always stored. Changes made
 * on the server (REST, bots) are appended as they happen and `flush` awaits them. Updates relayed from other
 * instances are not stored again. A document whose state cannot be read is refused, never served empty.
 */
export function persistence(store: DocumentStore, log: Logger, compactAfter: number): Persistence {
  const pending = new Map<string, Promise<void>>();
  const logLength = new Map<string, number>();

  const appendLocal = (name: string, update: Uint8Array) => {
    const previous = pending.get(name) ?? Promise.resolve();
    const next = previous.then(() => store.append(name, update));
    pending.set(name, next);
    logLength.set(name, (logLength.get(name) ?? 0) + 1);
    next.then(
      () => pending.get(name) === next && pending.delete(name),
      (err) => log.error({ err, document: name }, 'storing a server-side change failed'),
    );
  };

  return {
    extensionName: 'persistence',
    // After access control and limits, so nothing unauthorised or oversized is stored.
    priority: 10,

    async onLoadDocument({ documentName, document }) {
      try {
        const stored = await store.load(documentName);
        logLength.set(documentName, stored.logLength);
        return stored.state;
      } catch (err) {
        log.error({ err, document: documentName }, 'cannot load document: refusing it');
        // Hocuspocus never registers a document that failed to load, so it never destroys it (nor its
        // awareness timer): do it here.
        document.destroy();
        throw new StorageUnavailable();
      }
    },

    async beforeSync({ connection, documentName, type, payload }) {
      if ((type !== SYNC_STEP_2 && type !== SYNC_UPDATE) || connection.readOnly || isEmptyUpdate(payload)) return;
      await store.append(documentName, payload);
      logLength.set(documentName, (logLength.get(documentName) ?? 0) + 1);
    },

    async onChange({ documentName, update, transactionOrigin }) {
      const origin = transactionOrigin as { source?: string } | undefined;
      if (origin?.source === 'local') appendLocal(documentName, update);
    },

    async onStoreDocument({ documentName }) {
      await pending.get(documentName);
      if ((logLength.get(documentName) ?? 0) < compactAfter) return;
      const result = await store.compact(documentName);
      logLength.set(documentName, 0);
      log.debug({ document: documentName, ...result }, 'document compacted');
    },

    async afterUnloadDocument({ documentName }) {
      logLength.delete(documentName);
    },

    async flush(documentName) {
      await pending.get(documentName);
    },
  };
}
