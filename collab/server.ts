import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Hocuspocus, type Extension } from '@hocuspocus/server';
import { Redis as RedisExtension } from '@hocuspocus/extension-redis';
import { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import type pg from 'pg';
import { WebSocketServer } from 'ws';
import * as Y from 'yjs';
import { ApiError, routeConsole, type AccessCache, type AccessTokens, type Logger } from '../server/index.ts';
import { accessControl, type CollabContext } from './extensions/access.ts';
import { itemIndex } from './extensions/item-index.ts';
import { limits, type CollabLimits } from './extensions/limits.ts';
import { presence, type PresenceLimits } from './extensions/presence.ts';
import { persistence, StorageUnavailable, type CompactionThresholds } from './extensions/persistence.ts';
import { relayedStorage } from './extensions/relayed-storage.ts';
import { writeRules } from './extensions/write-rules.ts';
import { writtenRanges } from './rules/index.ts';
import { createDocumentStore, type CompactionResult } from './storage/document-store.ts';
import type { Keyring } from './storage/keyring.ts';

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
  /** Share documents with other instances through Redis. */
  redisUrl?: string;
  /** Where the collaboration metrics are registered. */
  registry: Registry;
  /**
   * Told after a document was stored (e.g. to queue it for indexing), with the live document; it must not throw,
   * and must not open a direct connection (closing one stores the document again).
   */
  onStored?: (documentName: string, document: Y.Doc) => void;
}

export interface Collab {
  hocuspocus: Hocuspocus<CollabContext>;
  /** Takes over an HTTP upgrade request for the collaboration WebSocket. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Reads the live document (loading it if no one has it open). */
  read<T>(documentName: string, reader: (doc: Y.Doc) => T): Promise<T>;
  /**
   * Changes the live document in one transaction: connected clients see it at once, and it is stored before
   * the returned promise resolves, attributed to `by` (the user a REST request acts for; none: the server).
   */
  change<T>(documentName: string, writer: (doc: Y.Doc) => T, by?: string): Promise<T>;
  /** Folds a document's update log into its snapshot now; content deleted in the document leaves storage. */
  compact(documentName: string): Promise<CompactionResult>;
  close(): Promise<void>;
}

export function createCollab(options: CollabOptions): Collab {
  const { log } = options;
  const redis = options.redisUrl ? new Redis(options.redisUrl, { maxRetriesPerRequest: null }) : undefined;
  const documents = createDocumentStore(options.storage, options.keyring);
  // Shared through Redis, a document holds changes other instances relayed: they must be stored before anything
  // here that depends on them is acknowledged.
  const relayed = redis && relayedStorage(documents, redis, log);
  const store = relayed?.store ?? documents;
  const rules = writeRules(options.pool, options.access, log, options.registry);
  const persisted = persistence(store, rules, log, options.compactAfter, relayed?.stored);
  const extensions: Extension[] = [
    accessControl(options.pool, options.access, options.tokens, log),
    presence(options.presence, log),
    limits(options.limits, log),
    rules,
    persisted,
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
    extensions.push(relayed.extension, new RedisExtension({ redis, createClient: () => new Redis(options.redisUrl!) }));
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

  async function withDocument<T>(documentName: string, work: (doc: Y.Doc) => T, write: boolean, by?: string): Promise<T> {
    // Reads and writes run synchronously on the live document, so nothing else interleaves, and the update a
    // write produced (Yjs emits it at the end of the transaction) is stored before this resolves.
    let direct;
    try {
      direct = await hocuspocus.openDirectConnection(documentName);
    } catch (err) {
      if (err instanceof StorageUnavailable) throw new ApiError(503, 'unavailable', err.reason);
      throw err;
    }
    try {
      const doc = direct.document!;
      if (!write) return work(doc);
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
          result = work(doc);
          ranges = writtenRanges(tr, [doc.clientID]);
        }, origin);
      } finally {
        doc.off('update', collect);
      }
      if (produced.length) {
        await store.append(documentName, Y.mergeUpdates(produced), { userId: by ?? null, ...ranges, newClients: [] });
      }
      return result;
    } finally {
      await direct.disconnect();
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
    read: (name, reader) => withDocument(name, reader, false),
    change: (name, writer, by) => withDocument(name, writer, true, by),
    compact: (name) => store.compact(name),
    close: () => (closing ??= shutDown()),
  };

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
