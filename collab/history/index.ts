import type { Extension, Hocuspocus } from '@hocuspocus/server';
import type pg from 'pg';
import { Counter, Histogram, type Registry } from 'prom-client';
import * as Y from 'yjs';
import { inTransaction, type Logger } from '../../core/index.ts';
import type { Subscribe } from '../../core/db/notifications.ts';
import type { DocumentStore } from '../storage/document-store.ts';
import type { Keyring } from '../storage/keyring.ts';
import { ROLLED_OVER_CLOSE } from './fence.ts';
import { currentLivePart, forgetGenerations, holdsLivePart, livePartOf } from './live-parts.ts';
import { segmentName } from './names.ts';
import { HISTORY_EVENTS, rollOver, type HistoryEvent, type HistoryLimits, type RolledOver } from './rollover.ts';
import { staleClients, type WriteAs } from './stale.ts';

export { parseSegmentName, segmentName, channelOf } from './names.ts';
export { isSealed, ROLLED_OVER_CLOSE } from './fence.ts';
export { storageNameOf, storageNameFor, livePartOf, currentLivePart } from './live-parts.ts';
export type { HistoryLimits, RolledOver } from './rollover.ts';
export type { StaleNotice } from './stale.ts';

/** How the server closes connections to a segment that retention dropped: it no longer exists. */
const DROPPED_CLOSE = { code: 4410, reason: 'history dropped' } as const;

/** What a client of an older generation of a live part is told, before its connection is closed. */
export interface RolledOverNotice {
  type: 'history';
  event: 'rolled-over';
  document: string;
  generation: number;
}

export interface ChatHistoryOptions {
  pool: pg.Pool;
  store: DocumentStore;
  keyring: Keyring;
  log: Logger;
  limits: HistoryLimits;
  registry: Registry;
  /** Notifications from the database (every instance hears of every rollover). */
  subscribe?: Subscribe;
  /** How what a stale client had not saved is written for it (Collab.writeAs). */
  writeAs: WriteAs;
  /** Told of the documents a rollover changed (the live part and its new segments), e.g. to index them. */
  onRolledOver?: (documentNames: string[]) => void;
}

/** Whether a live part holds more than its limits allow (cheap: lengths only). */
function overLimits(doc: Y.Doc, limits: HistoryLimits): boolean {
  const messages = doc.getArray<unknown>('messages');
  if (messages.length > limits.liveMessages) return true;
  let characters = 0;
  for (const m of messages) {
    const text = m instanceof Y.Map ? m.get('text') : undefined;
    if (text instanceof Y.Text) characters += text.length;
  }
  return characters > limits.liveCharacters && messages.length > 1;
}

/**
 * A chat's history in parts (see collab/README "Chat history"): which generation of the live part a document
 * loads, rollovers in the background once a live part is over its limits, and what every instance does when a
 * live part it holds was rolled over (its clients are told, and reopen it).
 */
export function chatHistory(options: ChatHistoryOptions) {
  const { pool, store, keyring, log, limits } = options;
  let hocuspocus: Hocuspocus | undefined;
  // The newest generation this instance has heard of, per channel.
  const newest = new Map<string, number>();
  // The storage name of the generation this instance last loaded, per channel (Redis keys: see redis-keys.ts).
  const storageNames = new Map<string, string>();
  // One rollover per channel at a time on this instance.
  const rolling = new Map<string, Promise<RolledOver | undefined>>();
  const rollovers = new Counter({
    name: 'collab_chat_rollovers_total', help: 'Chat live parts rolled over into sealed segments',
    registers: [options.registry],
  });
  const rolloverSeconds = new Histogram({
    name: 'collab_chat_rollover_seconds', help: 'How long a rollover took', registers: [options.registry],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });

  function roll(channelId: string, generation: number): Promise<RolledOver | undefined> {
    let running = rolling.get(channelId);
    if (!running) {
      const end = rolloverSeconds.startTimer();
      running = rollOver(pool, store, keyring, channelId, generation, limits).finally(() => {
        rolling.delete(channelId);
        end();
      });
      running.then((done) => {
        if (!done) return;
        rollovers.inc();
        log.info({ channel_id: channelId, ...done, segments: done.segments.length }, 'chat history rolled over');
        options.onRolledOver?.([channelId, ...done.segments]);
      }, () => {});
      rolling.set(channelId, running);
    }
    return running;
  }

  /** Closes this instance's connections to an older generation of a live part: their clients reopen it. */
  function rolledOver(channelId: string, generation: number): void {
    newest.set(channelId, Math.max(generation, newest.get(channelId) ?? 0));
    const document = hocuspocus?.documents.get(channelId);
    const part = document && livePartOf(document);
    if (!document || !part || part.generation >= generation) return;
    const notice: RolledOverNotice = { type: 'history', event: 'rolled-over', document: channelId, generation };
    for (const connection of document.getConnections()) {
      connection.sendStateless(JSON.stringify(notice));
      connection.close(ROLLED_OVER_CLOSE);
    }
  }

  const stale = staleClients(pool, store, log, options.writeAs);
  /** Closes this instance's connections to a segment retention dropped (reopening it finds nothing). */
  function dropped(name: string): void {
    for (const connection of hocuspocus?.documents.get(name)?.getConnections() ?? []) connection.close(DROPPED_CLOSE);
  }

  // One LISTEN (one connection on PostgreSQL) for every chat history event; it resolves to its stop.
  const listening = options.subscribe?.(HISTORY_EVENTS, {
    message(payload) {
      try {
        const event = JSON.parse(payload) as HistoryEvent;
        if (event.event === 'rolled-over') rolledOver(event.channelId, event.generation);
        else dropped(event.name);
      } catch (err) {
        log.warn({ err }, 'unreadable chat history notification');
      }
    },
    // Listening again after a gap: a rollover announced meanwhile was missed; ask about the live parts held here.
    gap(listening) {
      if (!listening) return;
      for (const [name, document] of hocuspocus?.documents ?? []) {
        const part = livePartOf(document);
        if (!part) continue;
        currentLivePart(pool, name).then(
          (now) => now && now.generation > part.generation && rolledOver(name, now.generation),
          (err) => log.warn({ err, channel_id: name }, 'cannot check a chat live part after a notification gap'),
        );
      }
    },
  });

  const extension: Extension = {
    extensionName: 'chat-history',
    // Before the write rules and persistence: a stale client's updates are taken over, never applied as they are.
    priority: 200,
    async onConfigure({ instance }) {
      hocuspocus = instance;
      await listening;
    },
    /** A connection made to an older generation still loaded here is closed at once: its client reopens it. */
    async connected({ connection, documentName }) {
      const part = livePartOf(connection.document);
      if (part && (newest.get(documentName) ?? 0) > part.generation) connection.close(ROLLED_OVER_CLOSE);
    },
    async beforeHandleMessage({ connection, update }) {
      await stale.beforeHandleMessage(connection, update);
    },
    async beforeSync({ connection, type, payload }) {
      stale.beforeSync(connection, type, payload);
    },
    async afterStoreDocument({ documentName, document }) {
      const part = livePartOf(document);
      if (!part || part.sealed || !overLimits(document, limits)) return;
      roll(documentName, part.generation).catch((err) => log.error({ err, channel_id: documentName }, 'chat rollover failed'));
    },
    async onDestroy() {
      await Promise.allSettled([...rolling.values()]);
      // Awaited even when the server stops before it started listening: a late subscription would retry forever.
      const stop = await listening?.catch(() => undefined);
      await stop?.();
    },
  };

  return {
    extension,
    /**
     * Where a loading document is stored. For a chat's live part, its current generation; one found sealed is
     * a rollover under way or interrupted, which is completed first.
     */
    async locate(documentName: string, document: Y.Doc, channelType?: string): Promise<string> {
      // A connection's context says what the channel is; a direct connection (REST, jobs) has none.
      if (channelType !== undefined && channelType !== 'TEXT' && channelType !== 'DM') return documentName;
      let part = await currentLivePart(pool, documentName);
      if (!part) return documentName;
      if (part.sealed) {
        await roll(documentName, part.generation);
        part = await currentLivePart(pool, documentName);
        if (!part || part.sealed) throw new Error(`the live part of ${documentName} is sealed`);
      }
      holdsLivePart(document, part);
      storageNames.set(documentName, part.storageName);
      newest.set(documentName, Math.max(part.generation, newest.get(documentName) ?? 0));
      return part.storageName;
    },
    /**
     * Drops a whole segment (retention): sealed first, so nothing more is appended or compacted into it, then its
     * rows, its index entries and its stored bytes are deleted; instances holding it close its connections.
     * Returns how many messages it held.
     */
    async dropSegment(channelId: string, part: number): Promise<number> {
      const name = segmentName(channelId, part);
      return inTransaction(pool, async (tx) => {
        await tx.query('SELECT 1 FROM document_fences WHERE document_name = $1 FOR UPDATE', [name]);
        await tx.query(
          `INSERT INTO document_fences (document_name, sealed, sealed_at) VALUES ($1, true, now())
           ON CONFLICT (document_name) DO UPDATE SET sealed = true, sealed_at = now()`,
          [name],
        );
        const { rows: [segment] } = await tx.query<{ message_count: number }>(
          'DELETE FROM chat_segments WHERE channel_id = $1 AND part = $2 RETURNING message_count',
          [channelId, part],
        );
        for (const table of ['document_updates', 'document_snapshots', 'document_writes', 'document_clients']) {
          await tx.query(`DELETE FROM ${table} WHERE document_name = $1`, [name]);
        }
        const event: HistoryEvent = { event: 'dropped', channelId, name };
        await tx.query('SELECT pg_notify($1, $2)', [HISTORY_EVENTS, JSON.stringify(event)]);
        return segment?.message_count ?? 0;
      });
    },
    /** Deletes the rows of sealed generations of a chat that hold messages first stored before `cutoff`. */
    forgetExpiredGenerations: (channelId: string, cutoff: Date) => forgetGenerations(pool, channelId, { holdingBefore: cutoff }),
    /** The name a document is shared under between instances. */
    sharedName: (documentName: string) => storageNames.get(documentName) ?? documentName,
    /** Rolls a chat's live part over now (tests, benchmarks; the server does it on its own past the limits). */
    async rollOver(channelId: string): Promise<RolledOver | undefined> {
      const part = await currentLivePart(pool, channelId);
      return part && roll(channelId, part.generation);
    },
  };
}

export type ChatHistory = ReturnType<typeof chatHistory>;
