import type { Connection, Document, Extension } from '@hocuspocus/server';
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import type { Logger } from '../../core/index.ts';
import type { DocumentStore, WriteRecord } from '../storage/document-store.ts';
import type { CollabContext } from './access.ts';
import type { WriteRules } from './write-rules.ts';
import { carriesUpdate, SYNC_UPDATE } from './sync-messages.ts';
import { isSealed, ROLLED_OVER_CLOSE } from '../history/fence.ts';
import { storageNameOf } from '../history/live-parts.ts';

/** An update with no structs and no deletions, as a client with nothing new sends after syncing. */
function isEmptyUpdate(update: Uint8Array): boolean {
  return update.length === 2 && update[0] === 0 && update[1] === 0;
}

export class StorageUnavailable extends Error {
  readonly reason = 'document storage unavailable';
}

/**
 * Durable documents. A client's update is applied under the write rules as it arrives and what the document took
 * of it is appended to the log, with who wrote it; the server's acknowledgement
 * of it (SyncStatus, which clears the provider's unsynced changes) is held back until the append has
 * committed, so an acknowledged update is always stored, while other clients see it without that wait. (Changes made
 * on the server are stored by `Collab.change` itself.) Updates relayed from other instances are not stored
 * again. A document whose state cannot be read is refused, never served empty.
 */
export interface CompactionThresholds {
  /** Compact once the log holds this many updates… */
  updates: number;
  /** …or this many bytes: a few huge updates (a long offline session) make slow loads too. */
  bytes: number;
}

const SYNC_STATUS = 8;
/** A document unloading with at least this much in its log is compacted first (see beforeUnloadDocument). */
const COMPACT_ON_UNLOAD_BYTES = 64 * 1024;
/** Attempts to store one update (about 8 s in all) before its connection is closed. */
const RETRIES = 5;

/** Whether an outgoing Hocuspocus frame is a SyncStatus (the acknowledgement of an update). */
function isSyncStatus(frame: Uint8Array): boolean {
  const decoder = decoding.createDecoder(frame);
  decoding.readVarString(decoder);
  return decoding.readVarUint(decoder) === SYNC_STATUS;
}

// The appends of each connection's updates that have not finished yet. Hocuspocus may work on a connection's
// next message before it has sent the previous one's acknowledgement, so an acknowledgement waits for every
// append its connection has started, not for one in particular: acknowledgements carry no id, and waiting for
// a later update's append too only delays it.
const appending = new WeakMap<Connection, Set<Promise<void>>>();

// How many stored bytes each loaded document was loaded from (its snapshot and log).
const loadedBytes = new WeakMap<Y.Doc, number>();

/** The stored bytes a document was loaded from: never less than its state's size (see limits.ts). */
export const loadedBytesOf = (document: Y.Doc): number | undefined => loadedBytes.get(document);

/** Makes a connection's next acknowledgements wait for `work` as well (e.g. what history/stale.ts stores for it). */
export function holdAcknowledgementFor(connection: Connection, work: Promise<unknown>): void {
  const started = appending.get(connection);
  if (!started) return;
  const done = work.then(() => {});
  started.add(done);
  done.then(() => started.delete(done), () => {});
}

/** What else an acknowledgement waits for (relayed content the connection's document holds being stored). */
export type BeforeAcknowledging = (connection: Connection) => Promise<void>;

/**
 * Makes a connection's acknowledgements wait until the updates they acknowledge are stored, keeping their order;
 * everything else it sends goes out at once.
 */
function holdAcknowledgements(connection: Connection, before?: BeforeAcknowledging): void {
  const send = connection.send.bind(connection);
  const started = new Set<Promise<void>>();
  appending.set(connection, started);
  let acks: Promise<void> = Promise.resolve();
  connection.send = (frame: Uint8Array) => {
    if (!isSyncStatus(frame)) return send(frame);
    const stored = Promise.all([...started, before?.(connection)]);
    acks = acks.then(() => stored).then(
      () => send(frame),
      () => {},
    );
  };
}

/**
 * Applies a document's stored parts in one transaction that emits no `update` event. Its listeners (Hocuspocus's
 * broadcast buffer; relayed-storage's, which takes only Redis's updates) are detached meanwhile: for them Yjs would
 * encode the whole loaded state once more (a fifth of applying it, in a fresh process) only to have it dropped,
 * since no connection is attached yet, and Hocuspocus must not send it to the first connection on top of its sync
 * (to a client of an older chat generation, whose copy must never take the new one in: history/stale.ts).
 */
function applyStored(document: Y.Doc, parts: Uint8Array[]): void {
  const listeners = document._observers.get('update');
  document._observers.delete('update');
  try {
    document.transact(() => {
      for (const part of parts) Y.applyUpdate(document, part);
    });
  } finally {
    if (listeners) document._observers.set('update', listeners);
  }
}

/** The attribution of a row the server writes on its own (a whole state, after failed appends). */
const serverWrite: WriteRecord = { userId: null, inserted: [], deleted: [], newClients: [] };

export function persistence(
  store: DocumentStore,
  rules: WriteRules,
  log: Logger,
  compactAfter: CompactionThresholds,
  beforeAcknowledging?: BeforeAcknowledging,
  /** Where a document is stored: its own name, or (a chat's live part) its current generation's (history/). */
  locate: (documentName: string, document: Y.Doc, channelType?: string) => Promise<string> = async (name) => name,
): Extension & { logBytes(): number } {
  // Per document: updates and bytes in the log since the last compaction.
  const logSize = new Map<string, { updates: number; bytes: number }>();
  const grow = (name: string, bytes: number) => {
    const size = logSize.get(name) ?? { updates: 0, bytes: 0 };
    logSize.set(name, { updates: size.updates + 1, bytes: size.bytes + bytes });
  };

  async function compact(documentName: string, storageName: string): Promise<void> {
    try {
      const result = await store.compact(storageName);
      log.debug({ document: documentName, ...result }, 'document compacted');
    } catch (err) {
      // Sealed since it loaded (rolled over, or dropped by retention): nothing of it is written any more.
      if (!isSealed(err)) throw err;
    }
    logSize.set(documentName, { updates: 0, bytes: 0 });
  }

  // Every append not finished yet, so shutdown can wait for them before the database closes.
  const inFlight = new Set<Promise<void>>();
  // Documents holding an update whose append failed for good; their next store writes their whole state.
  const unstored = new Set<string>();

  /**
   * Stores a client's update. It is already in the live document, so a client that reconnects will not send it
   * again (the server's state vector has it): a failed append is retried, then the document's whole state (which
   * contains it) is written instead; only when that fails too is the document marked for its next store.
   */
  async function durably(document: Document, update: Uint8Array, write: WriteRecord): Promise<void> {
    const name = storageNameOf(document);
    let lastError: unknown;
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      try {
        // The update itself again (appending one twice is harmless), and only as a last resort the whole state,
        // which can be many megabytes: writing that on every retry would multiply the load on a struggling database.
        const last = attempt === RETRIES - 1;
        await store.append(name, last ? Y.encodeStateAsUpdate(document) : update, write);
        return;
      } catch (err) {
        // A live part that was rolled over takes nothing more: its client sends the update again (history/stale.ts).
        if (isSealed(err)) throw err;
        lastError = err;
        log.warn({ err, document: name, attempt }, 'storing an update failed: retrying');
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
    unstored.add(document.name);
    throw lastError;
  }

  return {
    extensionName: 'persistence',
    /** Bytes in the logs of the loaded documents since their last compaction (the collab_log_bytes gauge). */
    logBytes: () => [...logSize.values()].reduce((sum, size) => sum + size.bytes, 0),
    // After access control and limits, so nothing unauthorised, oversized or malformed is stored.
    priority: 10,

    async onLoadDocument({ documentName, document, context }) {
      try {
        const stored = await store.load(await locate(documentName, document, (context as Partial<CollabContext>)?.channelType));
        logSize.set(documentName, { updates: stored.logLength, bytes: stored.logBytes });
        // Applied here rather than returned, so a state that cannot be applied is refused like one that
        // cannot be read.
        applyStored(document, stored.parts);
        loadedBytes.set(document, stored.parts.reduce((sum, part) => sum + part.length, 0));
      } catch (err) {
        log.error({ err, document: documentName }, 'cannot load document: refusing it');
        // Hocuspocus never registers a document that failed to load, so it never destroys it (nor its
        // awareness timer): do it here.
        document.destroy();
        throw new StorageUnavailable();
      }
    },

    async connected({ connection }) {
      holdAcknowledgements(connection, beforeAcknowledging);
    },

    async beforeSync({ connection, documentName, type, payload }) {
      if (!carriesUpdate(type) || connection.readOnly || isEmptyUpdate(payload)) return;
      // Applied here under the write rules (Hocuspocus then applies nothing); what the document took is stored.
      const write = await rules.apply(connection as Connection<CollabContext>, payload, type === SYNC_UPDATE);
      if (!write) return;
      const stored = durably(connection.document, write.applied, write);
      grow(documentName, write.applied.length);
      // The update is applied and relayed to the other clients at once; only its acknowledgement waits for
      // the database (see holdAcknowledgements). If storing fails for good, the connection closes
      // unacknowledged and the document stays marked until its whole state is stored.
      const started = appending.get(connection);
      started?.add(stored);
      inFlight.add(stored);
      stored.then(
        () => {
          started?.delete(stored);
          inFlight.delete(stored);
        },
        (err) => {
          inFlight.delete(stored);
          if (isSealed(err)) {
            connection.close(ROLLED_OVER_CLOSE);
            return;
          }
          log.error({ err, document: documentName }, 'storing an update failed: closing the connection');
          connection.close({ code: 4500, reason: 'storage failed' });
        },
      );
    },

    async onStoreDocument({ documentName, document }) {
      const storageName = storageNameOf(document);
      if (unstored.has(documentName)) {
        await store.append(storageName, Y.encodeStateAsUpdate(document), serverWrite);
        unstored.delete(documentName);
        log.info({ document: documentName }, 'stored the whole state of a document after a failed append');
      }
      const size = logSize.get(documentName);
      if (!size || (size.updates < compactAfter.updates && size.bytes < compactAfter.bytes)) return;
      await compact(documentName, storageName);
    },

    // A document nobody has open any more is compacted if its log would slow its next load (the thresholds above
    // let up to a megabyte of updates wait, which takes several times as long to load as the snapshot it folds
    // into), so its next load reads a snapshot whenever compaction last ran. A failure is logged and the document
    // unloads all the same (its log is intact).
    async beforeUnloadDocument({ documentName, document }) {
      const size = logSize.get(documentName);
      if (!size || size.bytes < Math.min(COMPACT_ON_UNLOAD_BYTES, compactAfter.bytes)) return;
      await compact(documentName, storageNameOf(document)).catch((err) => {
        log.warn({ err, document: documentName }, 'compacting a document before unloading it failed');
      });
    },

    async afterUnloadDocument({ documentName }) {
      logSize.delete(documentName);
      // Reloaded from storage, the document lacks the unstored update, so its client sends it again on sync.
      unstored.delete(documentName);
    },

    async onDestroy() {
      await Promise.allSettled([...inFlight]);
    },

    /** Server-side changes are stored by Collab.change; they count towards compaction too. */
    async onChange({ documentName, update, transactionOrigin }) {
      if ((transactionOrigin as { source?: string } | undefined)?.source === 'local') grow(documentName, update.length);
    },
  };
}
