import * as Y from 'yjs';
import { DocumentId, MessageText } from '../../schema/index.ts';
import { messageIndex } from '../shapes/message-index.ts';
import { valueOf } from './changes.ts';
import { plausibleTime, refuse, type ChannelRules, type Refusal, type RuleInput, type Writer } from './rule.ts';

/** How far ahead of the server's clock a client's clock may run. */
const CLOCK_SKEW_MS = 5 * 60_000;
const MAX_EMOJI_LENGTH = 32;
/** Distinct emoji one message may carry. */
const MAX_EMOJI_PER_MESSAGE = 64;
const tooManyEmoji = refuse('chat.reaction', `a message carries at most ${MAX_EMOJI_PER_MESSAGE} different reactions`);
const MESSAGE_KEYS = new Set(['id', 'author_id', 'text', 'created_at', 'parent_id', 'reactions']);

const str = (map: Y.Map<unknown>, key: string) => {
  const value = map.get(key);
  return typeof value === 'string' ? value : undefined;
};

/** Whether the text holds plain strings only (no formatting or embeds) and fits the size limit. */
function plainText(value: unknown): value is Y.Text {
  if (!(value instanceof Y.Text)) return false;
  for (let item = value._start; item; item = item.right) {
    if (!item.deleted && !(item.content instanceof Y.ContentString)) return false;
  }
  return MessageText.safeParse(value.toString()).success;
}

/** An emoji key: short, printable. */
const validEmoji = (emoji: string) =>
  emoji.length > 0 && emoji.length <= MAX_EMOJI_LENGTH && !/[\p{Cc}\p{Cf}\s]/u.test(emoji.replace(/\u200d|\ufe0f/g, ''));

/** A reactions map (emoji → user id → true) that holds only the writer's own reactions. */
function ownReactions(value: unknown, writer: Writer): Refusal | undefined {
  if (!(value instanceof Y.Map)) return refuse('chat.shape', 'reactions must be a map of emoji');
  if (value.size > MAX_EMOJI_PER_MESSAGE) return tooManyEmoji;
  for (const [emoji, users] of value.entries()) {
    const refusal = ownReactionUsers(emoji, users, writer);
    if (refusal) return refusal;
  }
  return undefined;
}

function ownReactionUsers(emoji: string, users: unknown, writer: Writer): Refusal | undefined {
  if (!validEmoji(emoji)) return refuse('chat.shape', 'a reaction must be a short emoji');
  if (!(users instanceof Y.Map)) return refuse('chat.shape', 'a reaction must be a map of user ids');
  for (const [userId, on] of users.entries()) {
    if (userId !== writer.userId) return refuse('chat.reaction', 'you can only add or remove your own reactions');
    if (on !== true) return refuse('chat.shape', 'a reaction entry must be true');
  }
  return undefined;
}

/** The message a place inside the `messages` array belongs to. */
function messageOf(type: Y.AbstractType<any>, depth: number): Y.Map<unknown> {
  let current = type;
  for (let i = 1; i < depth; i++) current = current._item!.parent as Y.AbstractType<any>;
  return current as Y.Map<unknown>;
}

/**
 * TEXT and DM channels. A new message is the writer's own (author_id), has a unique UUID, a plausible created_at,
 * plain text within the size limit, and a parent that exists; its id, author, created_at and parent never change;
 * only the author edits it; the author or a group owner or admin deletes it (by marking it, never by removing it);
 * each reaction entry is only ever its writer's own id. The server adds `received_at`.
 */
export const chatRules: ChannelRules = {
  roots: { messages: Y.Array },
  check({ change, place, writer, view, doc }) {
    if (place.root !== 'messages') return refuse('shape', 'a chat holds only messages');
    const depth = place.path.length;
    if (depth === 0) {
      if (change.kind === 'delete') return refuse('chat.remove', 'messages are deleted by marking them, not removed');
      if (change.kind === 'insert') return newMessage(change.item, writer, doc);
      return refuse('shape', 'a chat holds only messages');
    }
    const message = messageOf(change.kind === 'set' ? change.map : change.parent, depth);
    if (!(message instanceof Y.Map) || place.path[0] !== null) return refuse('shape', 'not part of a message');
    const author = str(message, 'author_id');
    const deletedBefore = valueOf(view.itemBefore(message, 'deleted')) === true;
    const isAuthor = author === writer.userId;

    if (depth === 1 && change.kind === 'set') {
      const after = valueOf(change.after);
      switch (change.key) {
        case 'deleted':
          if (after !== true || deletedBefore) return refuse('chat.delete', 'a deletion cannot be undone');
          if (!isAuthor && writer.role !== 'owner' && writer.role !== 'admin') {
            return refuse('chat.delete', "only the author or a group admin can delete a message");
          }
          return undefined;
        case 'text':
        case 'reactions':
          if (after === undefined) {
            // Deleting a message drops its text and reactions with it.
            const mayDelete = isAuthor || writer.role === 'owner' || writer.role === 'admin';
            return message.get('deleted') === true && mayDelete
              ? undefined
              : refuse('chat.edit', 'only a deleted message loses its text and reactions');
          }
          if (deletedBefore) return refuse('chat.edit', 'a deleted message cannot change');
          if (change.key === 'text') {
            if (!isAuthor) return refuse('chat.edit', "only the author can edit a message");
            return plainText(after) ? undefined : refuse('chat.text', 'message text must be plain text of at most 10000 characters');
          }
          if (change.before) return refuse('chat.reaction', 'you can only add or remove your own reactions');
          return ownReactions(after, writer);
        case 'edited_at':
          if (!isAuthor) return refuse('chat.edit', "only the author can edit a message");
          if (deletedBefore) return refuse('chat.edit', 'a deleted message cannot change');
          return plausibleTime(after, writer.now, CLOCK_SKEW_MS)
            ? undefined
            : refuse('chat.time', 'edited_at must be a time no later than now');
        default:
          return refuse('chat.fixed', `a message's ${change.key.slice(0, 40)} cannot change once written`);
      }
    }
    if (depth === 2 && place.path[1] === 'text' && change.kind !== 'set') {
      if (!isAuthor) return refuse('chat.edit', "only the author can edit a message");
      if (deletedBefore) return refuse('chat.edit', 'a deleted message cannot change');
      return change.kind === 'delete' || plainText(change.parent)
        ? undefined
        : refuse('chat.text', 'message text must be plain text of at most 10000 characters');
    }
    if (depth === 2 && place.path[1] === 'reactions' && change.kind === 'set') {
      if (deletedBefore) return refuse('chat.edit', 'a deleted message cannot change');
      // Replacing or removing an emoji's map removes every reaction in it: only when they were all the writer's.
      const before = valueOf(change.before);
      if (before instanceof Y.Map && [...before._map.keys()].some((id) => id !== writer.userId && view.itemBefore(before, id))) {
        return refuse('chat.reaction', 'you can only add or remove your own reactions');
      }
      if (change.after && !change.before && (change.map as Y.Map<unknown>).size > MAX_EMOJI_PER_MESSAGE) return tooManyEmoji;
      return change.after ? ownReactionUsers(change.key, valueOf(change.after), writer) : undefined;
    }
    if (depth === 3 && place.path[1] === 'reactions' && change.kind === 'set') {
      if (deletedBefore) return refuse('chat.edit', 'a deleted message cannot change');
      if (change.key !== writer.userId) return refuse('chat.reaction', 'you can only add or remove your own reactions');
      const after = valueOf(change.after);
      return after === undefined || after === true ? undefined : refuse('chat.shape', 'a reaction entry must be true');
    }
    return refuse('shape', 'not part of a message');
  },

  stamp(accepted: RuleInput[]) {
    const at = new Date(accepted[0]?.writer.now ?? Date.now()).toISOString();
    for (const { change, place } of accepted) {
      if (change.kind === 'insert' && place.path.length === 0) {
        ((change.item.content as Y.ContentType).type as Y.Map<unknown>).set('received_at', at);
      }
    }
  },
};

/** Message ids seen in the transaction being checked, so two new messages cannot share one. */
const newIds = new WeakMap<Y.Transaction, Set<string>>();

function newMessage(item: Y.Item, writer: Writer, doc: Y.Doc): Refusal | undefined {
  const value = valueOf(item);
  if (!(value instanceof Y.Map) || item.length !== 1) return refuse('shape', 'a chat holds only messages');
  const message = value as Y.Map<unknown>;
  for (const key of message.keys()) {
    if (!MESSAGE_KEYS.has(key)) return refuse('chat.shape', `a new message cannot have ${key.slice(0, 40)}`);
  }
  const id = message.get('id');
  if (!DocumentId.safeParse(id).success) return refuse('chat.shape', 'a message id must be a lower-case UUID');
  const seen = newIds.get(doc._transaction!) ?? new Set<string>();
  newIds.set(doc._transaction!, seen);
  if (seen.has(id as string) || isTaken(doc, id as string, message) || writer.sealedIds?.has(id as string)) {
    return refuse('chat.id', 'a message with this id exists');
  }
  if (message.get('author_id') !== writer.userId) {
    return refuse('chat.author', 'a message can only be posted as yourself');
  }
  if (!plausibleTime(message.get('created_at'), writer.now, CLOCK_SKEW_MS)) {
    return refuse('chat.time', 'created_at must be a time no later than now');
  }
  if (!plainText(message.get('text'))) {
    return refuse('chat.text', 'message text must be plain text of at most 10000 characters');
  }
  const parent = message.get('parent_id');
  const exists = (id: string) => seen.has(id) || messageIndex(doc).has(id) || writer.sealedIds?.has(id) === true;
  if (parent !== undefined && (typeof parent !== 'string' || !exists(parent))) {
    return refuse('chat.thread', 'a reply must answer a message of this channel');
  }
  const reactions = message.get('reactions');
  if (reactions !== undefined) {
    const refusal = ownReactions(reactions, writer);
    if (refusal) return refusal;
  }
  seen.add(id as string);
  return undefined;
}

/** Whether another message already has this id (the index may already hold the new one itself). */
function isTaken(doc: Y.Doc, id: string, message: Y.Map<unknown>): boolean {
  const holder = messageIndex(doc).get(id);
  return holder !== undefined && holder !== message;
}

/** A sealed history segment: its messages are edited, reacted to and deleted as in the live part; none is added. */
export const segmentRules: ChannelRules = {
  roots: chatRules.roots,
  check(input) {
    const { change, place } = input;
    if (place.root === 'messages' && place.path.length === 0 && change.kind === 'insert') {
      return refuse('chat.sealed', 'history segments take no new messages: post in the live part');
    }
    return chatRules.check(input);
  },
};
