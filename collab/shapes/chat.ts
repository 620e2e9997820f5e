import * as Y from 'yjs';
import { messageIndex } from './message-index.ts';
import { bool, str } from './read.ts';

/**
 * TEXT and DM channels: `messages` Y.Array of Y.Map {id, author_id, text (Y.Text), created_at, edited_at?,
 * parent_id? (thread), deleted?, reactions (Y.Map emoji → Y.Map user_id → true), received_at}. Times are ISO
 * strings. `created_at` is the writer's claim; `received_at` is written by the server when it first receives the
 * message (the write rules refuse it from clients), and retention goes by it.
 */
export interface Message {
  id: string;
  author_id: string;
  text: string;
  created_at: string;
  /** When the server first received the message (null for messages stored before it recorded this). */
  received_at: string | null;
  edited_at: string | null;
  parent_id: string | null;
  deleted: boolean;
  /** emoji → the users who reacted with it */
  reactions: Record<string, string[]>;
}

const messagesOf = (doc: Y.Doc) => doc.getArray<unknown>('messages');

function readReactions(value: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!(value instanceof Y.Map)) return out;
  value.forEach((users, emoji) => {
    if (!(users instanceof Y.Map)) return;
    const ids = [...users.entries()].filter(([, on]) => on === true).map(([id]) => id).sort();
    if (ids.length) out[emoji] = ids;
  });
  return out;
}

function readMessage(m: unknown): Message | undefined {
  if (!(m instanceof Y.Map)) return undefined;
  const map = m as Y.Map<unknown>;
  const id = str(map, 'id');
  const author_id = str(map, 'author_id');
  const created_at = str(map, 'created_at');
  if (!id || !author_id || !created_at) return undefined;
  const deleted = bool(map, 'deleted') ?? false;
  return {
    id,
    author_id,
    text: deleted ? '' : (str(map, 'text') ?? ''),
    created_at,
    received_at: str(map, 'received_at') ?? null,
    edited_at: str(map, 'edited_at') ?? null,
    parent_id: str(map, 'parent_id') ?? null,
    deleted,
    reactions: deleted ? {} : readReactions(map.get('reactions')),
  };
}

/** Messages in document order (the order clients see them), malformed entries skipped. */
export function readMessages(doc: Y.Doc): Message[] {
  return messagesOf(doc).toArray().flatMap((m) => readMessage(m) ?? []);
}

const findMap = (doc: Y.Doc, id: string): Y.Map<unknown> | undefined => messageIndex(doc).get(id);

/** The message with this id, if the channel has it. */
export function readMessageById(doc: Y.Doc, id: string): Message | undefined {
  return readMessage(findMap(doc, id));
}

/**
 * The Yjs item id of each message's map, by message id: what `document_writes` ranges name, so the writer of a
 * message is a lookup (its `author_id` is only what the writer claimed).
 */
export function messageItemIds(doc: Y.Doc, ids: readonly string[]): Map<string, { client: number; clock: number }> {
  const found = new Map<string, { client: number; clock: number }>();
  for (const id of ids) {
    const item = findMap(doc, id)?._item;
    if (item) found.set(id, { client: item.id.client, clock: item.id.clock });
  }
  return found;
}

export interface NewMessage {
  author_id: string;
  text: string;
  parent_id?: string | null;
  created_at?: Date;
  /** A client that wrote the message before (offline, in a part since rolled over) keeps its id. */
  id?: string;
}

/** A new message as a client writes it (the server adds `received_at`). */
function messageMap(fields: NewMessage): Y.Map<unknown> {
  const m = new Y.Map<unknown>();
  m.set('id', fields.id ?? crypto.randomUUID());
  m.set('author_id', fields.author_id);
  m.set('text', new Y.Text(fields.text));
  m.set('created_at', (fields.created_at ?? new Date()).toISOString());
  if (fields.parent_id) m.set('parent_id', fields.parent_id);
  m.set('reactions', new Y.Map());
  return m;
}

/** Appends a message as a client does: the server's write rules check it and add `received_at`. */
export function writeMessage(doc: Y.Doc, fields: NewMessage): Message {
  const m = messageMap(fields);
  messagesOf(doc).push([m]);
  return readMessage(m)!;
}

/** Appends a message on the server (REST, the AI), which records its own receipt time at once. */
export function postMessage(doc: Y.Doc, fields: NewMessage): Message {
  const m = messageMap(fields);
  m.set('received_at', new Date().toISOString());
  messagesOf(doc).push([m]);
  return readMessage(m)!;
}

export function editMessage(doc: Y.Doc, id: string, text: string): Message | undefined {
  const m = findMap(doc, id);
  const current = m && readMessage(m);
  if (!m || !current || current.deleted) return undefined;
  const yText = m.get('text');
  if (yText instanceof Y.Text) {
    yText.delete(0, yText.length);
    yText.insert(0, text);
  } else {
    m.set('text', new Y.Text(text));
  }
  m.set('edited_at', new Date().toISOString());
  return readMessage(m);
}

/** Appends to a message's text without marking it edited: for text written as it is produced (the AI's replies). */
export function appendToMessage(doc: Y.Doc, id: string, text: string): boolean {
  const yText = findMap(doc, id)?.get('text');
  if (!(yText instanceof Y.Text)) return false;
  yText.insert(yText.length, text);
  return true;
}

/** Marks a message deleted and drops its text and reactions, so compaction removes them from storage. */
export function deleteMessage(doc: Y.Doc, id: string): boolean {
  const m = findMap(doc, id);
  if (!m) return false;
  m.set('deleted', true);
  m.delete('text');
  m.delete('reactions');
  return true;
}

export function react(doc: Y.Doc, id: string, emoji: string, userId: string, on: boolean): Message | undefined {
  const m = findMap(doc, id);
  if (!m || !readMessage(m) || bool(m, 'deleted')) return undefined;
  let reactions = m.get('reactions');
  if (!(reactions instanceof Y.Map)) m.set('reactions', (reactions = new Y.Map()));
  const byEmoji = reactions as Y.Map<unknown>;
  let users = byEmoji.get(emoji);
  if (!(users instanceof Y.Map)) byEmoji.set(emoji, (users = new Y.Map()));
  if (on) (users as Y.Map<unknown>).set(userId, true);
  else (users as Y.Map<unknown>).delete(userId);
  return readMessage(m);
}

/**
 * Removes messages received before `cutoff` (at most `limit` of them), for retention: the entries are deleted
 * from the array, so after compaction their text is gone from storage. Returns how many were removed.
 */
export function removeMessagesBefore(doc: Y.Doc, cutoff: Date, limit: number): number {
  const messages = messagesOf(doc);
  const cut = cutoff.toISOString();
  let removed = 0;
  for (let i = messages.length - 1; i >= 0 && removed < limit; i--) {
    const m = messages.get(i);
    // The server's own time where it has one: a client's created_at is a claim (a date far in the future would
    // keep a message forever).
    const received = m instanceof Y.Map ? (m.get('received_at') ?? m.get('created_at')) : undefined;
    if (typeof received === 'string' && received < cut) {
      messages.delete(i, 1);
      removed++;
    }
  }
  return removed;
}

/** When the server first stored a message: its `received_at`, or `created_at` for messages from before it was kept. */
export const receivedAt = (m: Message): string => m.received_at ?? m.created_at;

/** Messages in the order the server first stored them (document order among equal times). */
export function inReceiptOrder(messages: Message[]): Message[] {
  return messages
    .map((m, i) => ({ m, i, at: receivedAt(m) }))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.i - b.i))
    .map(({ m }) => m);
}

/**
 * Writes copies of messages, with every field (the server's `received_at` included), at the end of a chat
 * document: how history parts are built on the server.
 */
export function copyMessages(doc: Y.Doc, messages: Message[]): void {
  const maps = messages.map((message) => {
    const m = new Y.Map<unknown>();
    m.set('id', message.id);
    m.set('author_id', message.author_id);
    m.set('created_at', message.created_at);
    m.set('received_at', receivedAt(message));
    if (message.parent_id) m.set('parent_id', message.parent_id);
    if (message.edited_at) m.set('edited_at', message.edited_at);
    if (message.deleted) {
      m.set('deleted', true);
      return m;
    }
    m.set('text', new Y.Text(message.text));
    const reactions = new Y.Map<unknown>();
    for (const [emoji, users] of Object.entries(message.reactions)) {
      reactions.set(emoji, new Y.Map(users.map((user) => [user, true])));
    }
    m.set('reactions', reactions);
    return m;
  });
  doc.transact(() => messagesOf(doc).push(maps));
}
