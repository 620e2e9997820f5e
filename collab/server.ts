import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Hocuspocus, type Document, type Extension } from '@hocuspocus/server';
import { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import type pg from 'pg';
import { WebSocketServer } from 'ws';
import * as Y from 'yjs';
import { ApiError, routeConsole, type AccessCache, type AccessTokens, type Logger } from '../core/index.ts';
import { accessControl, type CollabContext } from './extensions/access.ts';
import { itemIndex } from './extensions/item-index.ts';
import { limits, type CollabLimits } from './extensions/limits.ts';
import { presence, type PresenceLimits } from './extensions/presence.ts';
import { persistence, StorageUnavailable, type CompactionThresholds } from './extensions/persistence.ts';
import { relayedStorage } from './extensions/relayed-storage.ts';
import { writeRules, type RefusedNotice } from './extensions/write-rules.ts';
import { chatHistory, isSealed, livePartOf, storageNameFor, storageNameOf, type ChatHistory, type HistoryLimits } from './history/index.ts';
import { generationalRedis } from './history/redis-keys.ts';
import { writtenRanges } from './rules/index.ts';
import { createDocumentStore, type CompactionResult } from './storage/document-store.ts';
import { measuredStore } from './storage/measured-store.ts';
import type { Keyring } from './storage/keyring.ts';
import type { Subscribe } from '../core/db/notifications.ts';

export interface CollabOptions {
  pool: pg.Pool;
  /** Document storage's own pool (`Database.storage`), so a busy document never makes requests wait. */
  storage: pg.Pool;
  access: AccessCache;
  tokens: AccessTokens;
  keyring: Keyring;
  log: Logger;
  limits: CollabLimits;
  presence: PresenceLimits;
  /** When to fold a document's log into its snapshot. */
  compactAfter: CompactionThresholds;
  /** When a chat's live part rolls over into sealed history segments. */
  history: HistoryLimits;
  /** Notifications from the database (rollovers reach every instance). */
  subscribe?: Subscribe;
  /** Share documents with other instances through Redis. */
  redisUrl?: string;
  /** Where the collaboration metrics are registered. */
  registry: Registry;
  /**
   * Told after a document was stored (e.g. to queue it for indexing), with the live document; it must not throw,
   * and must not open a direct connection (closing one stores the document again).
   */
  onStored?: (documentName: string, document: Y.Doc) => void;
  /** Told of the documents a chat rollover wrote (the live part and new history segments), e.g. to index them. */
  onRolledOver?: (documentNames: string[]) => void;
}

export interface Collab {
  hocuspocus: Hocuspocus<CollabContext>;
  /** Takes over an HTTP upgrade request for the collaboration WebSocket. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Reads the live document: the one loaded here, or what is stored (acknowledged) if none is. */
  read<T>(documentName: string, reader: (doc: Y.Doc) => T): Promise<T>;
  /**
   * Changes the live document in one transaction: connected clients see it at once, and it is stored before
   * the returned promise resolves, attributed to `by` (the user a REST request acts for; none: the server).
   */
  change<T>(documentName: string, writer: (doc: Y.Doc) => T, by?: string): Promise<T>;
  /**
   * Writes for a user under the write rules, as if their client had made `edit` and sent it live (what a client of
   * an older generation of a chat's live part had not saved: history/stale.ts), and stores it; returns what the
   * rules refused.
   */
  writeAs(documentName: string, context: CollabContext, edit: (doc: Y.Doc) => void): Promise<RefusedNotice['refusals']>;
  /** Folds a document's update log into its snapshot now; content deleted in the document leaves storage. */
  compact(documentName: string): Promise<CompactionResult>;
  /** Chat history in parts: rollovers, and where a chat's live part is stored. */
  history: ChatHistory;
  close(): Promise<void>;
}

export function createCollab(options: CollabOptions): Collab {
  const { log } = options;
  const redis = options.redisUrl ? new Redis(options.redisUrl, { maxRetriesPerRequest: null }) : undefined;
  const documents = measuredStore(createDocumentStore(options.storage, options.keyring), options.registry);
  // Shared through Redis, a document holds changes other instances relayed: they must be stored before anything
  // here that depends on them is acknowledged.
  const relayed = redis && relayedStorage(documents, redis, log);
  const store = relayed?.store ?? documents;
  const rules = writeRules(options.pool, options.access, log, options.registry);
  const history = chatHistory({
    pool: options.pool, store, keyring: options.keyring, log, limits: options.history, registry: options.registry,
    subscribe: options.subscribe, writeAs, onRolledOver: options.onRolledOver,
  });
  const persisted = persistence(store, rules, log, options.compactAfter, relayed?.stored, history.locate);
  const extensions: Extension[] = [
    accessControl(options.pool, options.access, options.tokens, log),
    presence(options.presence, log),
    limits(options.limits, log),
    rules,
    persisted,
    history.extension,
    itemIndex(options.pool, log),
  ];
  const { onStored } = options;
  if (onStored) {
    extensions.push({
      extensionName: 'stored-hook',
      priority: 1,
      async afterStoreDocument({ documentName, document }) {
        onStored(documentName, document);
      },
    });
  }
  if (relayed) {
    extensions.push(relayed.extension, generationalRedis({ redis, createClient: () => new Redis(options.redisUrl!) }, history.sharedName));
  }

  new Gauge({
    name: 'collab_documents_loaded', help: 'Documents held in memory', registers: [options.registry],
    collect() {
      this.set(hocuspocus.getDocumentsCount());
    },
  });
  new Gauge({
    name: 'collab_connections', help: 'Open collaboration connections', registers: [options.registry],
    collect() {
      this.set(hocuspocus.getConnectionsCount());
    },
  });
  new Gauge({
    name: 'collab_log_bytes', help: 'Bytes in the logs of the loaded documents, not yet folded into their snapshots',
    registers: [options.registry],
    collect() {
      this.set(persisted.logBytes());
    },
  });

  // Hocuspocus prints its errors and warnings with console; they become our JSON log lines.
  const unrouteConsole = routeConsole(log, '/@hocuspocus/', 'hocuspocus');
  const hocuspocus = new Hocuspocus<CollabContext>({
    name: 'teamspace',
    quiet: true,
    // Stores run on this debounce; durability does not depend on them (see persistence).
    debounce: 2000,
    maxDebounce: 10_000,
    unloadImmediately: true,
    extensions,
  });

  let closing: Promise<void> | undefined;
  const sockets = new WebSocketServer({ noServer: true, maxPayload: options.limits.maxUpdateBytes + 64 * 1024 });

  /**
   * Runs `work` on the live document: the one already loaded here as it is (no store cycle, no lock), or one
   * opened through a direct connection (loaded from storage, stored and unloaded again after).
   */
  async function withDocument<T>(documentName: string, work: (doc: Document) => T | Promise<T>): Promise<T> {
    const loaded = hocuspocus.documents.get(documentName);
    if (loaded) return work(loaded);
    let direct;
    try {
      direct = await hocuspocus.openDirectConnection(documentName);
    } catch (err) {
      if (err instanceof StorageUnavailable) throw new ApiError(503, 'unavailable', err.reason);
      throw err;
    }
    try {
      return await work(direct.document!);
    } finally {
      await direct.disconnect();
    }
  }

  /**
   * Reads the live document if it is loaded here; otherwise what is stored, without loading it into Hocuspocus
   * (which would share it through Redis, store it and wait to unload it: seconds for a read). What is stored is
   * what was acknowledged.
   */
  async function read<T>(documentName: string, reader: (doc: Y.Doc) => T): Promise<T> {
    const loaded = hocuspocus.documents.get(documentName);
    if (loaded && !livePartOf(loaded)) return reader(loaded);
    const storageName = await storageNameFor(options.pool, documentName);
    // A chat's live part: not an older generation still loaded here while its clients leave after a rollover.
    if (loaded && storageNameOf(loaded) === storageName) return reader(loaded);
    const doc = new Y.Doc();
    try {
      const { parts } = await store.load(storageName).catch((err) => {
        log.error({ err, document: documentName }, 'cannot read a stored document');
        throw new ApiError(503, 'unavailable', new StorageUnavailable().reason);
      });
      for (const part of parts) Y.applyUpdate(doc, part);
      return reader(doc);
    } finally {
      doc.destroy();
    }
  }

  /**
   * A server-side write: run synchronously in one transaction on the live document, so nothing else interleaves,
   * and the update it produced (Yjs emits it at the end of the transaction) stored before this resolves. A live
   * part rolled over meanwhile took nothing: the write is made again on its new generation.
   */
  async function change<T>(documentName: string, writer: (doc: Y.Doc) => T, by?: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let stale: Document | undefined;
      try {
        return await withDocument(documentName, async (doc) => {
          stale = doc;
          const origin = { source: 'local' };
          const produced: Uint8Array[] = [];
          const collect = (update: Uint8Array, from: unknown) => {
            if (from === origin) produced.push(update);
          };
          let result!: T;
          let ranges!: ReturnType<typeof writtenRanges>;
          doc.on('update', collect);
          try {
            doc.transact((tr) => {
              result = writer(doc);
              ranges = writtenRanges(tr, [doc.clientID]);
            }, origin);
          } finally {
            doc.off('update', collect);
          }
          if (produced.length) {
            const write = { userId: by ?? null, ...ranges, newClients: [] };
            await store.append(storageNameOf(doc), Y.mergeUpdates(produced), write);
          }
          return result;
        });
      } catch (err) {
        if (!isSealed(err) || attempt >= 3) throw err;
        await unloaded(documentName, stale);
      }
    }
  }

  /** Waits (up to 5 s) until an older generation of a live part is no longer the document loaded here. */
  async function unloaded(documentName: string, old: Document | undefined): Promise<void> {
    for (let waited = 0; waited < 5000 && old && hocuspocus.documents.get(documentName) === old; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  return {
    hocuspocus,
    handleUpgrade(request, socket, head) {
      sockets.handleUpgrade(request, socket, head, (ws) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(request.headers)) {
          if (typeof value === 'string') headers.set(name, value);
        }
        const webRequest = new Request(`http://localhost${request.url ?? '/'}`, { headers });
        const client = hocuspocus.handleConnection(ws, webRequest);
        ws.on('message', (data: Buffer) => client.handleMessage(new Uint8Array(data)));
        ws.on('close', (code, reason) => client.handleClose({ code, reason: reason.toString() }));
        ws.on('error', (err) => log.warn({ err }, 'collab socket error'));
      });
    },
    read,
    change,
    writeAs,
    compact: async (name) => store.compact(await storageNameFor(options.pool, name)),
    history,
    close: () => (closing ??= shutDown()),
  };

  async function writeAs(name: string, context: CollabContext, edit: (doc: Y.Doc) => void) {
    return withDocument(name, async (doc) => {
      // Made on a copy, as the user's client would, then applied under the rules like an update it sent.
      const copy = new Y.Doc();
      const made: Uint8Array[] = [];
      try {
        Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
        copy.on('update', (update: Uint8Array) => made.push(update));
        copy.transact(() => edit(copy));
      } finally {
        copy.destroy();
      }
      if (!made.length) return [];
      const { accepted, refusals } = await rules.applyAs(doc, context, Y.mergeUpdates(made));
      if (accepted) await store.append(storageNameOf(doc), accepted.applied, accepted);
      return refusals;
    });
  }

  async function shutDown(): Promise<void> {
    for (const client of sockets.clients) client.terminate();
    hocuspocus.closeConnections();
    // Run every pending store now and wait for all of them, so none still runs once the database closes.
    const documents = [...hocuspocus.documents.values()];
    await Promise.all(documents.map((doc) => hocuspocus.debouncer.executeNow(`onStoreDocument-${doc.name}`)));
    await Promise.all(documents.map((doc) => doc.saveMutex.waitForUnlock()));
    // Unload now, while Redis and the database are still there for the unload hooks.
    await Promise.all(documents.map((doc) => hocuspocus.unloadDocument(doc)));
    await hocuspocus.hooks('onDestroy', { instance: hocuspocus });
    sockets.close();
    redis?.disconnect();
    unrouteConsole();
  }
}
