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
export interface CompactionThresholds {
  /** Compact once the log holds this many updates… */
  updates: number;
  /** …or this many bytes: a few huge updates (a long offline session) make slow loads too. */
  bytes: number;
}

export function persistence(store: DocumentStore, log: Logger, compactAfter: CompactionThresholds): Extension {
  // Per document: updates and bytes in the log since the last compaction.
  const logSize = new Map<string, { updates: number; bytes: number }>();
  const grow = (name: string, bytes: number) => {
    const size = logSize.get(name) ?? { updates: 0, bytes: 0 };
    logSize.set(name, { updates: size.updates + 1, bytes: size.bytes + bytes });
  };

  return {
    extensionName: 'persistence',
    // After access control and limits, so nothing unauthorised, oversized or malformed is stored.
    priority: 10,

    async onLoadDocument({ documentName, document }) {
      try {
        const stored = await store.load(documentName);
        logSize.set(documentName, { updates: stored.logLength, bytes: stored.logBytes });
        // Applied here rather than returned, so a state that cannot be applied is refused like one that
        // cannot be read.
        document.transact(() => {
          for (const part of stored.parts) Y.applyUpdate(document, part);
        });
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
      grow(documentName, payload.length);
    },

    async onStoreDocument({ documentName }) {
      const size = logSize.get(documentName);
      if (!size || (size.updates < compactAfter.updates && size.bytes < compactAfter.bytes)) return;
      const result = await store.compact(documentName);
      logSize.set(documentName, { updates: 0, bytes: 0 });
      log.debug({ document: documentName, ...result }, 'document compacted');
    },

    async afterUnloadDocument({ documentName }) {
      logSize.delete(documentName);
    },

    /** Server-side changes are stored by Collab.change; they count towards compaction too. */
    async onChange({ documentName, update, transactionOrigin }) {
      if ((transactionOrigin as { source?: string } | undefined)?.source === 'local') grow(documentName, update.length);
    },
  };
}
