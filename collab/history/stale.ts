import type { Connection, Document } from '@hocuspocus/server';
import * as decoding from 'lib0/decoding';
import type pg from 'pg';
import * as Y from 'yjs';
import type { Logger } from '../../core/index.ts';
import type { CollabContext } from '../extensions/access.ts';
import { holdAcknowledgementFor } from '../extensions/persistence.ts';
import { askForMissing, carriesUpdate } from '../extensions/sync-messages.ts';
import type { RefusedNotice } from '../extensions/write-rules.ts';
import { chat } from '../shapes/index.ts';
import { messageIndex } from '../shapes/message-index.ts';
import type { Message } from '../shapes/chat.ts';
import type { DocumentStore } from '../storage/document-store.ts';
import { isSealed, ROLLED_OVER_CLOSE } from './fence.ts';
import { livePartOf } from './live-parts.ts';
import { sealedParts } from './sealed-ids.ts';
import { generationStorageName, parseSegmentName, segmentName } from './names.ts';

/** The message a client of an older generation gets once what it had not saved is in the current parts. */
export interface StaleNotice {
  type: 'history';
  event: 'stale';
  document: string;
  generation: number;
}

export type WriteAs = (
  documentName: string,
  context: CollabContext,
  edit: (doc: Y.Doc) => void,
) => Promise<RefusedNotice['refusals']>;

/** An older generation of a live part, as it was sealed: what a stale client's changes are measured against. */
interface Generation {
  state: Uint8Array;
  doc: Y.Doc;
  messages: Map<string, Message>;
}

const SYNC = 0;
const SYNC_STEP_1 = 0;
const QUERY_AWARENESS = 3;
/** How long a sealed generation stays in memory after a stale client needed it (they come back together). */
const KEEP_MS = 60_000;

/** What one of the writer's messages became in their copy, against the sealed generation. */
function changesOf(before: Map<string, Message>, after: Message[], userId: string) {
  const posts: Message[] = [];
  const edits: { id: string; text?: string; delete?: true; reactions: [string, boolean][] }[] = [];
  const seen = new Set<string>();
  for (const m of after) {
    if (seen.has(m.id)) continue;
    seen.add(m.id);
    const old = before.get(m.id);
    if (!old) {
      // Others' content the client holds unsaved is theirs to send again.
      if (m.author_id === userId && !m.deleted) posts.push(m);
      continue;
    }
    const reactions: [string, boolean][] = [];
    for (const emoji of new Set([...Object.keys(old.reactions), ...Object.keys(m.reactions)])) {
      const had = old.reactions[emoji]?.includes(userId) ?? false;
      const has = m.reactions[emoji]?.includes(userId) ?? false;
      if (had !== has && !m.deleted) reactions.push([emoji, has]);
    }
    const edit = {
      id: m.id,
      ...(m.deleted && !old.deleted ? { delete: true as const } : {}),
      ...(!m.deleted && m.text !== old.text && m.author_id === userId ? { text: m.text } : {}),
      reactions,
    };
    if (edit.delete || edit.text !== undefined || reactions.length) edits.push(edit);
  }
  return { posts, edits };
}

/**
 * Clients holding an older generation of a chat's live part (they were offline, or connected, during a rollover).
 * Their copy cannot be merged into the new generation (it would bring back every message as a duplicate), so:
 * the server recognises them by their state vector (it lacks the current generation's builder), swallows their
 * sync step 1 (nothing of the new generation is sent to them), asks them instead for what they hold beyond the
 * sealed generation they know (their unsaved changes), writes those into the current parts as that user under the
 * write rules (new messages into the live part; edits, reactions, deletions wherever the message now lives),
 * acknowledges them once stored, and then tells the client its copy is stale and closes: the client drops its
 * copy and opens the live part afresh.
 */
export function staleClients(pool: pg.Pool, store: DocumentStore, log: Logger, writeAs: WriteAs) {
  const generations = new Map<string, Promise<Generation>>();
  const stale = new WeakMap<Connection, Promise<Generation>>();
  const takenOver = new WeakMap<Connection, Promise<unknown>>();

  function sealedGeneration(storageName: string): Promise<Generation> {
    let found = generations.get(storageName);
    if (!found) {
      found = store.load(storageName).then(({ parts }) => {
        const doc = new Y.Doc();
        for (const part of parts) Y.applyUpdate(doc, part);
        const messages = new Map<string, Message>();
        for (const m of chat.readMessages(doc)) if (!messages.has(m.id)) messages.set(m.id, m);
        return { state: Y.encodeStateAsUpdate(doc), doc, messages };
      });
      generations.set(storageName, found);
      const forget = () => {
        generations.delete(storageName);
        found!.then(({ doc }) => doc.destroy(), () => {});
      };
      found.then(() => setTimeout(forget, KEEP_MS).unref(), forget);
    }
    return found;
  }

  /** The newest generation whose builder the client's state vector names (none: generation 0). */
  async function generationOf(channelId: string, clients: number[]): Promise<string> {
    const { rows: [row] } = await pool.query<{ storage_name: string }>(
      `SELECT storage_name FROM chat_generations WHERE channel_id = $1 AND builder_client = ANY($2::bigint[])
       ORDER BY generation DESC LIMIT 1`,
      [channelId, clients.map(String)],
    );
    return row?.storage_name ?? generationStorageName(channelId, 0);
  }

  /** Where a message of the channel lives now: the live part, a segment, or nowhere (dropped by retention). */
  async function whereIs(live: Document, channelId: string, ids: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const index = messageIndex(live);
    for (const id of ids) if (index.has(id)) found.set(id, channelId);
    const sealed = await sealedParts(pool, channelId, ids.filter((id) => !found.has(id)));
    for (const [id, part] of sealed) found.set(id, segmentName(channelId, part));
    return found;
  }

  async function takeOver(connection: Connection<CollabContext>, generation: Generation, update: Uint8Array) {
    const { context } = connection;
    const live = connection.document;
    const copy = new Y.Doc();
    let after: Message[];
    try {
      Y.applyUpdate(copy, generation.state);
      Y.applyUpdate(copy, update);
      after = chat.readMessages(copy);
    } finally {
      copy.destroy();
    }
    const { posts, edits } = changesOf(generation.messages, after, context.userId);
    if (!posts.length && !edits.length) return;
    const places = await whereIs(live, context.channelId, [...posts, ...edits].map((m) => m.id));
    const refusals: RefusedNotice['refusals'] = [];
    const newPosts = posts.filter((m) => !places.has(m.id));
    if (newPosts.length) {
      refusals.push(...(await writeAs(live.name, { ...context, segment: null }, (doc) => {
        for (const m of newPosts) {
          chat.writeMessage(doc, {
            id: m.id, author_id: m.author_id, text: m.text, parent_id: m.parent_id, created_at: new Date(m.created_at),
          });
          for (const [emoji, users] of Object.entries(m.reactions)) {
            if (users.includes(context.userId)) chat.react(doc, m.id, emoji, context.userId, true);
          }
        }
      })));
    }
    const byPlace = new Map<string, typeof edits>();
    for (const edit of edits) {
      const place = places.get(edit.id);
      if (place) byPlace.set(place, [...(byPlace.get(place) ?? []), edit]);
    }
    for (const [place, list] of byPlace) {
      const segment = parseSegmentName(place)?.part ?? null;
      refusals.push(...(await writeAs(place, { ...context, segment }, (doc) => {
        for (const edit of list) {
          if (edit.text !== undefined) chat.editMessage(doc, edit.id, edit.text);
          for (const [emoji, on] of edit.reactions) chat.react(doc, edit.id, emoji, context.userId, on);
          if (edit.delete) chat.deleteMessage(doc, edit.id);
        }
      })));
    }
    log.info(
      { channel_id: context.channelId, user_id: context.userId, posts: newPosts.length, edits: edits.length, refusals },
      'took over what a client of an older chat generation had not saved',
    );
  }

  return {
    /**
     * Recognises a client of an older generation by its sync step 1, and turns that message into one that does
     * nothing (a query for awareness), so Hocuspocus does not send it the new generation.
     */
    async beforeHandleMessage(connection: Connection<CollabContext>, message: Uint8Array): Promise<void> {
      const part = livePartOf(connection.document);
      if (!part || part.builderClient === null) return;
      const decoder = decoding.createDecoder(message);
      decoding.readVarString(decoder);
      const typeAt = decoder.pos;
      if (decoding.readVarUint(decoder) !== SYNC || decoding.readVarUint(decoder) !== SYNC_STEP_1) return;
      const known = Y.decodeStateVector(decoding.readVarUint8Array(decoder));
      // Every sync step 1 of a stale client is swallowed, not only its first.
      if (!stale.has(connection) && (known.size === 0 || known.has(part.builderClient))) return;
      message[typeAt] = QUERY_AWARENESS;
      if (stale.has(connection)) return;
      const generation = generationOf(part.channelId, [...known.keys()]).then(sealedGeneration);
      stale.set(connection, generation);
      generation.then(
        (sealed) => askForMissing(connection, sealed.doc),
        (err) => {
          log.error({ err, channel_id: part.channelId }, 'cannot read an older chat generation');
          connection.close({ code: 4500, reason: 'storage failed' });
        },
      );
    },

    /** A stale client's updates are taken over (never applied as they are); then it is told and closed. */
    beforeSync(connection: Connection<CollabContext>, type: number, payload: Uint8Array): void {
      const generation = stale.get(connection);
      if (!generation || !carriesUpdate(type)) return;
      const update = payload.slice();
      // Nothing of it is applied by the write rules or Hocuspocus (see write-rules.ts `neutralize`).
      payload[0] = 0;
      payload[1] = 0;
      const part = livePartOf(connection.document)!;
      // One update at a time, in order; the client is told once the last one it sent is stored.
      const previous = takenOver.get(connection) ?? Promise.resolve();
      const done = previous.then(() => (connection.readOnly ? undefined : generation.then((sealed) => takeOver(connection, sealed, update))));
      takenOver.set(connection, done);
      holdAcknowledgementFor(connection, done);
      done.then(
        // After the acknowledgement, which waits for the same work (holdAcknowledgementFor).
        () => setImmediate(() => {
          if (takenOver.get(connection) !== done) return;
          const notice: StaleNotice = { type: 'history', event: 'stale', document: part.channelId, generation: part.generation };
          connection.sendStateless(JSON.stringify(notice));
          connection.close(ROLLED_OVER_CLOSE);
        }),
        (err) => {
          // Rolled over again meanwhile: the client comes back, and what it holds is taken over then.
          if (isSealed(err)) return connection.close(ROLLED_OVER_CLOSE);
          log.error({ err, channel_id: part.channelId }, 'cannot take over what a stale client had not saved');
          connection.close({ code: 4500, reason: 'storage failed' });
        },
      );
    },
  };
}
