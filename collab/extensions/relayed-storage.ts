import type { Connection, Document, Extension } from '@hocuspocus/server';
import type { Redis } from 'ioredis';
import * as Y from 'yjs';
import { documentNameOf } from '../history/names.ts';
import { isSealed, ROLLED_OVER_CLOSE } from '../history/fence.ts';
import { storageNameOf } from '../history/live-parts.ts';
import type { Logger } from '../../core/index.ts';
import { writtenRanges } from '../rules/index.ts';
import type { DocumentStore, WriteRecord } from '../storage/document-store.ts';

/**
 * "Acknowledged means stored" across instances. Content relayed from another instance through Redis is stored by
 * the instance it came from, unless that instance dies (or its database stalls) first; yet a client here that
 * holds it is told "saved" by the next acknowledgement (a reconnecting author sends nothing the server already
 * has). So an acknowledgement here waits until every relayed change this document holds is known stored: each
 * instance announces over Redis the Yjs ids each append stored, and what is not announced within `wait` ms is
 * appended here (as the server's: its writer is not known here; appending an update twice is harmless). In the
 * usual case the announcement comes first and nothing is written twice.
 */
export interface RelayedStorage {
  extension: Extension;
  /** The document store, announcing what each append stored once it committed. */
  store: DocumentStore;
  /** Resolves once every relayed change the connection's document holds is stored; closes it if that fails. */
  stored(connection: Connection): Promise<void>;
}

/** Yjs ids per client, as sorted, disjoint [start, end) clock ranges. */
class IdSet {
  private readonly clients = new Map<number, [number, number][]>();

  add(client: number, start: number, end: number): void {
    const merged: [number, number][] = [];
    let [from, to] = [start, end];
    let placed = false;
    for (const [a, b] of this.clients.get(client) ?? []) {
      if (b < from) merged.push([a, b]);
      else if (a > to) {
        if (!placed) merged.push([from, to]);
        placed = true;
        merged.push([a, b]);
      } else [from, to] = [Math.min(from, a), Math.max(to, b)];
    }
    if (!placed) merged.push([from, to]);
    this.clients.set(client, merged);
  }

  has(client: number, start: number, end: number): boolean {
    return (this.clients.get(client) ?? []).some(([a, b]) => a <= start && end <= b);
  }
}

type Ids = Pick<WriteRecord, 'inserted' | 'deleted'>;

interface Stored {
  inserted: IdSet;
  deleted: IdSet;
}

const record = (stored: Stored, ids: Ids) => {
  for (const [client, start, end] of ids.inserted) stored.inserted.add(client, start, end);
  for (const [client, clock, length] of ids.deleted) stored.deleted.add(client, clock, clock + length);
};

const covers = (stored: Stored, ids: Ids) =>
  ids.inserted.every(([client, start, end]) => stored.inserted.has(client, start, end)) &&
  ids.deleted.every(([client, clock, length]) => stored.deleted.has(client, clock, clock + length));

/** A change that arrived through Redis, not yet known stored. */
interface Relayed extends Ids {
  update: Uint8Array;
  done: boolean;
}

interface DocumentState {
  document: Document;
  /** What other instances announced storing (and this one stored for them) since it was loaded. */
  stored: Stored;
  pending: Relayed[];
  /** Told whenever pending entries are done. */
  waiters: Set<() => void>;
  /** The append of pending entries under way here, if any. */
  flight?: Promise<void>;
}

interface Announcement extends Ids {
  document: string;
}

/** Attempts to store relayed changes here (about 8 s in all) before the waiting connection is closed. */
const RETRIES = 5;

export function relayedStorage(
  documents: DocumentStore,
  redis: Redis,
  log: Logger,
  options: { channel?: string; wait?: number } = {},
): RelayedStorage {
  const channel = options.channel ?? 'teamspace:stored';
  // Long enough for another instance's append to commit and be announced in the usual case.
  const wait = options.wait ?? 1000;
  const states = new Map<string, DocumentState>();

  function settle(state: DocumentState): void {
    const before = state.pending.length;
    state.pending = state.pending.filter((entry) => {
      entry.done ||= covers(state.stored, entry);
      return !entry.done;
    });
    if (state.pending.length === before) return;
    for (const wake of state.waiters) wake();
  }

  const subscriber = redis.duplicate();
  subscriber.on('message', (_channel: string, message: string) => {
    let announced: Announcement;
    try {
      announced = JSON.parse(message) as Announcement;
    } catch {
      return;
    }
    const state = states.get(announced.document);
    if (!state) return;
    record(state.stored, announced);
    settle(state);
  });
  const subscribed = subscriber.subscribe(channel).catch((err) => {
    log.error({ err }, 'cannot subscribe to stored-update announcements: relayed changes are stored here too');
  });

  const store: DocumentStore = {
    ...documents,
    async append(name, update, write) {
      await documents.append(name, update, write);
      if (!write.inserted.length && !write.deleted.length) return;
      const announcement: Announcement = { document: documentNameOf(name), inserted: write.inserted, deleted: write.deleted };
      redis.publish(channel, JSON.stringify(announcement)).catch((err) => {
        // Others then store the same changes themselves after `wait`: slower, never unsafe.
        log.warn({ err, document: name }, 'cannot announce a stored update');
      });
    },
  };

  /** Appends every pending relayed change of a document here, once at a time per document. */
  function storePending(name: string, state: DocumentState): Promise<void> {
    state.flight ??= (async () => {
      const entries = state.pending;
      const ids: Ids = { inserted: entries.flatMap((e) => e.inserted), deleted: entries.flatMap((e) => e.deleted) };
      try {
        const update = Y.mergeUpdates(entries.map((e) => e.update));
        await store.append(storageNameOf(state.document), update, { userId: null, ...ids, newClients: [] });
      } finally {
        state.flight = undefined;
      }
      record(state.stored, ids);
      settle(state);
      log.info({ document: name, updates: entries.length }, 'stored relayed changes not announced by their instance');
    })();
    return state.flight;
  }

  async function settled(name: string, state: DocumentState): Promise<void> {
    const waiting = [...state.pending];
    const deadline = Date.now() + wait;
    let attempt = 0;
    while (waiting.some((entry) => !entry.done)) {
      const left = deadline - Date.now();
      if (left > 0) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            state.waiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, left);
          state.waiters.add(wake);
        });
        continue;
      }
      try {
        await storePending(name, state);
      } catch (err) {
        // A live part rolled over takes nothing more: its clients reopen it (history/).
        if (isSealed(err) || ++attempt >= RETRIES) throw err;
        log.warn({ err, document: name, attempt }, 'storing relayed changes failed: retrying');
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
  }

  const extension: Extension = {
    extensionName: 'relayed-storage',
    // Before persistence loads the document, so announcements made meanwhile are kept.
    priority: 20,

    async onLoadDocument({ documentName, document }) {
      await subscribed;
      const state: DocumentState = {
        document, stored: { inserted: new IdSet(), deleted: new IdSet() }, pending: [], waiters: new Set(),
      };
      states.set(documentName, state);
      document.on('update', (update: Uint8Array, origin: unknown, _doc: Y.Doc, tr: Y.Transaction) => {
        if ((origin as { source?: string } | null)?.source !== 'redis') return;
        const ids = writtenRanges(tr, [...tr.afterState.keys()]);
        const entry: Relayed = { update, done: false, ...ids };
        if (covers(state.stored, entry)) return;
        state.pending.push(entry);
      });
      // A reloaded document may be loading under the same name before this one is gone.
      document.on('destroy', () => {
        if (states.get(documentName)?.document === document) states.delete(documentName);
      });
    },

    async onDestroy() {
      await Promise.allSettled([...states.values()].map((state) => state.flight));
      subscriber.disconnect();
    },
  };

  return {
    extension,
    store,
    async stored(connection) {
      const state = states.get(connection.document.name);
      if (!state?.pending.length) return;
      try {
        await settled(connection.document.name, state);
      } catch (err) {
        if (isSealed(err)) {
          connection.close(ROLLED_OVER_CLOSE);
          throw err;
        }
        log.error({ err, document: state.document.name }, 'storing relayed changes failed: closing the connection');
        connection.close({ code: 4500, reason: 'storage failed' });
        throw err;
      }
    },
  };
}
