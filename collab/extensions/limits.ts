import type { Connection, Extension } from '@hocuspocus/server';
import * as Y from 'yjs';
import type { Logger } from '../../core/index.ts';
import { loadedBytesOf } from './persistence.ts';
import type { CollabContext } from './access.ts';
import { carriesUpdate } from './sync-messages.ts';
import { WriteQuota } from './write-quota.ts';

export interface CollabLimits {
  /** Largest single update a client may send. */
  maxUpdateBytes: number;
  /** Largest a document may grow, counted as its stored state plus the updates received since loading. */
  maxDocumentBytes: number;
  /** Sustained messages per second per connection; bursts of twice that pass. */
  messagesPerSecond: number;
  /** Bytes of updates one user may write per minute, over all their connections and documents. */
  userBytesPerMinute: number;
  /** Bytes of updates the members of one group may write per minute together (a DM counts for its writer only). */
  groupBytesPerMinute: number;
}

/** Updates from this size on wait for the event loop's next turn before they are handled (see beforeSync). */
const YIELD_BYTES = 64 * 1024;

/** A close that the provider reports with its reason; codes in the private 4000-4999 range. */
function closeWith(code: number, reason: string) {
  return Object.assign(new Error(reason), { code, reason });
}

/** Whether the update holds structs the document lacks (deletions alone never make a document bigger). */
function addsContent(doc: Y.Doc, update: Uint8Array): boolean {
  for (const [client, clock] of Y.parseUpdateMeta(update).to) {
    if (clock > Y.getState(doc.store, client)) return true;
  }
  return false;
}

interface Size {
  /** Stored state plus the updates taken since: an upper bound, since deletions and garbage collection shrink it. */
  estimate: number;
  /** Changes seen, and how many there had been when `estimate` was last measured exactly. */
  changes: number;
  measuredAt: number;
}

/**
 * Protection against hostile or broken clients: a connection that floods, sends an oversized update or one
 * that is not a valid Yjs update, or whose writer is over their (or their group's) write quota, is closed with a
 * clear reason before anything is applied or stored; the document and its other clients are untouched.
 */
export function limits(cfg: CollabLimits, log: Logger): Extension {
  const sizes = new Map<string, Size>();
  const buckets = new WeakMap<object, { tokens: number; at: number }>();
  const users = new WriteQuota(cfg.userBytesPerMinute);
  const groups = new WriteQuota(cfg.groupBytesPerMinute);

  /** Refuses a writer over quota; the reason says in how many seconds the debt is paid back and writing works again. */
  function checkQuota(connection: Connection<CollabContext>, documentName: string): void {
    const { userId, groupId } = connection.context;
    const userWait = users.wait(userId);
    const [scope, wait] = userWait ? ['user', userWait] : ['group', groupId ? groups.wait(groupId) : 0];
    if (!wait) return;
    log.warn(
      { document: documentName, user_id: userId, group_id: groupId, scope, retry_in: wait },
      'collab write quota exceeded: closing',
    );
    throw closeWith(4429, `${scope} write quota exceeded: retry in ${wait} s`);
  }

  /** Refuses an update that would take the document past its limit; measures it exactly only when that could help. */
  function checkSize(connection: Connection<CollabContext>, documentName: string, bytes: number): void {
    const size = sizes.get(documentName) ?? { estimate: 0, changes: 0, measuredAt: -1 };
    sizes.set(documentName, size);
    // Encoding a big document's whole state takes a while: only when it changed since last measured.
    if (size.estimate + bytes > cfg.maxDocumentBytes && size.measuredAt !== size.changes) {
      size.estimate = Y.encodeStateAsUpdate(connection.document).length;
      size.measuredAt = size.changes;
    }
    if (size.estimate + bytes > cfg.maxDocumentBytes) {
      log.warn({ document: documentName, user_id: connection.context.userId }, 'document size limit: closing');
      throw closeWith(4413, 'document too large');
    }
    size.estimate += bytes;
  }

  return {
    extensionName: 'limits',
    priority: 200,

    async afterLoadDocument({ documentName, document }) {
      // What it was loaded from is at least its state's size (deleted content and repeats fold away): a safe
      // estimate, measured exactly only when an update would take it past the limit. Encoding the whole state
      // here instead costs a quarter of a cold load.
      const stored = loadedBytesOf(document);
      sizes.set(documentName, stored === undefined
        ? { estimate: Y.encodeStateAsUpdate(document).length, changes: 0, measuredAt: 0 }
        : { estimate: stored, changes: 0, measuredAt: -1 });
    },

    async onChange({ documentName }) {
      const size = sizes.get(documentName);
      if (size) size.changes++;
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

    async beforeSync({ connection: anyConnection, documentName, type, payload }) {
      if (!carriesUpdate(type)) return;
      const connection = anyConnection as Connection<CollabContext>;
      if (payload.length > cfg.maxUpdateBytes) throw closeWith(4413, 'update too large');
      // A connection's messages are handled back to back without returning to the event loop, and a big update
      // takes a while to check, apply and relay: let other sockets and requests in between big ones.
      if (payload.length >= YIELD_BYTES) await new Promise((resolve) => setImmediate(resolve));
      const malformed = () => {
        log.warn({ document: documentName, user_id: connection.context?.userId }, 'malformed update: closing');
        return closeWith(4400, 'malformed update');
      };
      let grows: boolean;
      try {
        grows = !connection.readOnly && addsContent(connection.document, payload);
      } catch {
        throw malformed();
      }
      // Before the update is decoded in full, so a refused flood costs little.
      if (grows) checkQuota(connection, documentName);
      // Applied to a scratch document first: some updates decode but fail to apply, and one of those stored
      // would make the document unloadable. (Missing dependencies are not an error: they wait as pending.)
      const scratch = new Y.Doc();
      try {
        Y.applyUpdate(scratch, payload);
      } catch {
        throw malformed();
      } finally {
        scratch.destroy();
      }
      if (!grows) return;
      checkSize(connection, documentName, payload.length);
      users.charge(connection.context.userId, payload.length);
      if (connection.context.groupId) groups.charge(connection.context.groupId, payload.length);
    },

    async afterUnloadDocument({ documentName }) {
      sizes.delete(documentName);
    },
  };
}
