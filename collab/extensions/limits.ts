import type { Extension } from '@hocuspocus/server';
import * as Y from 'yjs';
import type { Logger } from '../../server/index.ts';
import { carriesUpdate } from './sync-messages.ts';

export interface CollabLimits {
  /** Largest single update a client may send. */
  maxUpdateBytes: number;
  /** Largest a document may grow, counted as its stored state plus the updates received since loading. */
  maxDocumentBytes: number;
  /** Sustained messages per second per connection; bursts of twice that pass. */
  messagesPerSecond: number;
}


/** A close that the provider reports with its reason; codes in the private 4000-4999 range. */
function closeWith(code: number, reason: string) {
  return Object.assign(new Error(reason), { code, reason });
}

/**
 * Protection against hostile or broken clients: a connection that floods, sends an oversized update or one
 * that is not a valid Yjs update is closed with a clear reason before anything is applied or stored; the
 * document and its other clients are untouched.
 */
export function limits(cfg: CollabLimits, log: Logger): Extension {
  const sizes = new Map<string, number>();
  const buckets = new WeakMap<object, { tokens: number; at: number }>();

  return {
    extensionName: 'limits',
    priority: 200,

    async afterLoadDocument({ documentName, document }) {
      sizes.set(documentName, Y.encodeStateAsUpdate(document).length);
    },

    async beforeHandleMessage({ connection, update, documentName }) {
      const now = Date.now();
      const burst = cfg.messagesPerSecond * 2;
      const bucket = buckets.get(connection) ?? { tokens: burst, at: now };
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * cfg.messagesPerSecond);
      bucket.at = now;
      buckets.set(connection, bucket);
      if (bucket.tokens < 1) {
        log.warn({ document: documentName, user_id: connection.context?.userId }, 'collab rate limit: closing');
        throw closeWith(4429, 'too many messages');
      }
      bucket.tokens -= 1;
      if (update.length > cfg.maxUpdateBytes + 1024) throw closeWith(4413, 'message too large');
    },

    async beforeSync({ connection, documentName, type, payload }) {
      if (!carriesUpdate(type)) return;
      if (payload.length > cfg.maxUpdateBytes) throw closeWith(4413, 'update too large');
      // Applied to a scratch document first: some updates decode but fail to apply, and one of those stored
      // would make the document unloadable. (Missing dependencies are not an error: they wait as pending.)
      const scratch = new Y.Doc();
      try {
        Y.applyUpdate(scratch, payload);
      } catch {
        log.warn({ document: documentName, user_id: connection.context?.userId }, 'malformed update: closing');
        throw closeWith(4400, 'malformed update');
      } finally {
        scratch.destroy();
      }
      if (connection.readOnly) return;
      // A running estimate (stored state plus updates since); recomputed before refusing, since deletions and
      // garbage collection shrink the real size.
      let size = (sizes.get(documentName) ?? 0) + payload.length;
      if (size > cfg.maxDocumentBytes) {
        size = Y.encodeStateAsUpdate(connection.document).length + payload.length;
        if (size > cfg.maxDocumentBytes) throw closeWith(4413, 'document too large');
      }
      sizes.set(documentName, size);
    },

    async afterUnloadDocument({ documentName }) {
      sizes.delete(documentName);
    },
  };
}
