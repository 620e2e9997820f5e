import type { Extension } from '@hocuspocus/server';
import * as Y from 'yjs';
import type { Logger } from '../../server/index.ts';
import type { DocumentStore } from '../storage/document-store.ts';
import { carriesUpdate } from './sync-messages.ts';

/** An update with no structs and no deletions, as a client with nothing new sends after syncing. */
function isEmptyUpdate(update: Uint8Array): boolean {
  return update.length === 2 && update[0] === 0 && update[1] === 0;
}

export class StorageUnavailable extends Error {
  readonly reason = 'document storage unavailable';
}

/**
 * Durable documents. A client's update is appended to the log inside `beforeSync`, which Hocuspocus awaits
 * before it applies the update and acknowledges it, so an acknowledged update is always stored. (Changes made
 * on the server are stored by `Collab.change` itself.) Updates relayed from other instances are not stored
 * again. A document whose state cannot be read is refused, never served empty.
 */
export function persistence(store: DocumentStore, log: Logger, compactAfter: number): Extension {
  const logLength = new Map<string, number>();

  return {
    extensionName: 'persistence',
    // After access control and limits, so nothing unauthorised, oversized or malformed is stored.
    priority: 10,

    async onLoadDocument({ documentName, document }) {
      try {
        const stored = await store.load(documentName);
        logLength.set(documentName, stored.logLength);
        // Applied here rather than returned, so a state that cannot be applied is refused like one that
        // cannot be read.
        if (stored.state) Y.applyUpdate(document, stored.state);
      } catch (err) {
        log.error({ err, document: documentName }, 'cannot load document: refusing it');
        // Hocuspocus never registers a document that failed to load, so it never destroys it (nor its
        // awareness timer): do it here.
        document.destroy();
        throw new StorageUnavailable();
      }
    },

    async beforeSync({ connection, documentName, type, payload }) {
      if (!carriesUpdate(type) || connection.readOnly || isEmptyUpdate(payload)) return;
      await store.append(documentName, payload);
      logLength.set(documentName, (logLength.get(documentName) ?? 0) + 1);
    },

    async onStoreDocument({ documentName }) {
      if ((logLength.get(documentName) ?? 0) < compactAfter) return;
      const result = await store.compact(documentName);
      logLength.set(documentName, 0);
      log.debug({ document: documentName, ...result }, 'document compacted');
    },

    async afterUnloadDocument({ documentName }) {
      logLength.delete(documentName);
    },
  };
}
