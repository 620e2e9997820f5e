import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type * as Y from 'yjs';
import { chat, type Collab, type Message } from '../collab/index.ts';
import type { Logger } from '../server/index.ts';
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

/**
 * The @AI bot: a message in a TEXT channel that starts with `@AI` gets a reply in its thread, written by the
 * server as the bot user and streamed into the reply's text in small batches, so every connected client watches
 * it being written. A question is claimed in the database first, so one instance answers it, once.
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
      // Retrieval is limited to what the asking user may read.
      const sources = await options.assistant.search(question.author_id, text, undefined, 5);
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
   * Looks for new @AI questions in a TEXT channel's live document (called when it was stored; read directly, as
   * a direct connection would store it again).
   */
  async function check(channelId: string, doc: Y.Doc): Promise<void> {
    const all = chat.readMessages(doc);
    if (!all.some((m) => MENTION.test(m.text))) return;
    const { rows: channel } = await pool.query<{ type: string }>('SELECT type FROM channels WHERE id = $1', [channelId]);
    if (channel[0]?.type !== 'TEXT') return;
    const answered = new Set(all.filter((m) => m.author_id === botId).map((m) => m.parent_id));
    const now = Date.now();
    for (const m of all) {
      if (m.deleted || m.author_id === botId || !MENTION.test(m.text) || answered.has(m.id)) continue;
      if (now - Date.parse(m.created_at) > FRESH_MS) continue;
      if (!(await claim(channelId, m))) continue;
      answer(channelId, m, all).catch((err) => log.error({ err, channel_id: channelId }, '@AI reply failed'));
    }
  }

  return { botId, check };
}
