import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type * as Y from 'yjs';
import { chat, type Collab, type Message } from '../collab/index.ts';
import type { Logger } from '../core/index.ts';
import { answerScope, isCurrentReader, isUuid } from './answer-scope.ts';
import type { Assistant } from './assistant.ts';
import type { ChatMessage, Llm } from './llm.ts';

export interface BotOptions {
  pool: pg.Pool;
  collab: Collab;
  assistant: Assistant;
  llm: Llm;
  log: Logger;
  hashPassword(password: string): Promise<string>;
  /** Written into the reply at most this often, so a reply is a few updates, not one per token. */
  flushMs: number;
}

export const BOT_USERNAME = 'ai-assistant';
const MENTION = /^@ai\b[\s,:]*/i;
/** Questions older than this when first seen are history, not something to answer now. */
const FRESH_MS = 10 * 60_000;
/** Chat channels, where the bot answers. */
const CHAT_TYPES = new Set(['TEXT', 'DM']);

/**
 * The @AI bot: a message in a TEXT channel or a DM that starts with `@AI` gets a reply in its thread, written by
 * the server as the bot user and streamed into the reply's text in small batches, so every connected client
 * watches it being written. A question is claimed in the database first, so one instance looks at it, once.
 *
 * It acts only for a verified author: the message's `author_id` (checked against the writer by collab's write
 * rules) must be an active person, not a bot, who reads the channel now (a group member of any role, viewers
 * included, or a DM participant); anything else is claimed and left unanswered. The reply is written as the
 * assistant, never as the asker, and draws only from `answerScope`: what every reader of the channel may read,
 * intersected with what the asker may read.
 */
export async function startBot(options: BotOptions) {
  const { pool, collab, log } = options;
  // The bot is a user no one can log in as: its password is random and forgotten.
  await pool.query(
    `INSERT INTO users (username, email, password_hash, display_name, is_bot)
     VALUES ($1, $2, $3, 'AI', true) ON CONFLICT DO NOTHING`,
    [BOT_USERNAME, `${BOT_USERNAME}@bot.invalid`, await options.hashPassword(randomBytes(32).toString('base64'))],
  );
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM users WHERE lower(username) = $1 AND is_bot', [BOT_USERNAME]);
  const botId = rows[0]?.id;
  if (!botId) {
    log.warn(`the @AI bot is off: the username ${BOT_USERNAME} belongs to a person`);
    return { botId: undefined, check: async (_channelId: string, _doc: Y.Doc) => {} };
  }

  async function claim(channelId: string, message: Message): Promise<boolean> {
    const { rowCount } = await pool.query(
      `INSERT INTO ai_bot_replies (message_id, channel_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [message.id, channelId],
    );
    return rowCount === 1;
  }

  async function answer(channelId: string, question: Message, all: Message[]): Promise<void> {
    const threadId = question.parent_id ?? question.id;
    const reply = await collab.change(channelId, (doc) =>
      chat.postMessage(doc, { author_id: botId!, text: '', parent_id: threadId }),
    );
    const thread = all.filter((m) => m.id === threadId || m.parent_id === threadId);
    const recent = all.filter((m) => !m.parent_id).slice(-10);
    const history: ChatMessage[] = [...new Set([...recent, ...thread])]
      .filter((m) => m.id !== question.id && !m.deleted)
      .map((m) => ({ role: m.author_id === botId ? 'assistant' : 'user', content: m.text }));
    const text = question.text.replace(MENTION, '');
    let pending = '';
    let lastFlush = Date.now();
    const flush = async () => {
      if (!pending) return;
      const piece = pending;
      pending = '';
      lastFlush = Date.now();
      await collab.change(channelId, (doc) => chat.appendToMessage(doc, reply.id, piece));
    };
    try {
      // Everyone who reads this channel reads the reply: retrieval is limited to what they all may read, and the
      // asker too (never to what the asker alone may read).
      const scope = await answerScope(pool, channelId, question.author_id);
      const sources = await options.assistant.search(scope, text, undefined, 5);
      for await (const token of options.llm.chat(options.assistant.answerPrompt(text, sources, history))) {
        pending += token;
        if (Date.now() - lastFlush >= options.flushMs) await flush();
      }
      await flush();
    } catch (err) {
      log.warn({ err, channel_id: channelId }, 'the @AI bot could not answer');
      pending += `${pending ? '\n' : ''}(I cannot answer right now: ${(err as Error).message})`;
      await flush();
    }
  }

  /**
   * Looks for new @AI questions in a chat channel's live document (called when it was stored; read directly, as
   * a direct connection would store it again).
   */
  async function check(channelId: string, doc: Y.Doc): Promise<void> {
    const all = chat.readMessages(doc);
    if (!all.some((m) => MENTION.test(m.text))) return;
    if (!isUuid(channelId)) return;
    const { rows: channel } = await pool.query<{ type: string }>('SELECT type FROM channels WHERE id = $1', [channelId]);
    if (!CHAT_TYPES.has(channel[0]?.type ?? '')) return;
    const answered = new Set(all.filter((m) => m.author_id === botId).map((m) => m.parent_id));
    const now = Date.now();
    for (const m of all) {
      if (m.deleted || m.author_id === botId || !MENTION.test(m.text) || answered.has(m.id)) continue;
      // The server's own receipt time where it has one: `created_at` is the writer's claim.
      if (now - Date.parse(m.received_at ?? m.created_at) > FRESH_MS) continue;
      // Claimed before the author is checked, so a question is looked at once, answered or not.
      if (!(await claim(channelId, m))) continue;
      if (!(await isCurrentReader(pool, channelId, m.author_id))) {
        log.warn(
          { channel_id: channelId, message_id: m.id, author_id: m.author_id },
          'the @AI bot ignored a question whose author is not a person reading the channel',
        );
        continue;
      }
      answer(channelId, m, all).catch((err) => log.error({ err, channel_id: channelId }, '@AI reply failed'));
    }
  }

  return { botId, check };
}
