// A long chat history for bench/chat, written straight into storage: sealed segments (through the server's own
// `writeParts`, as rollovers write them) in big batches, then a live part built the way clients fill one.
import type pg from 'pg';
import * as Y from 'yjs';
import { writeParts } from '../../collab/history/rollover.ts';
import { chat, type Keyring, type Message } from '../../collab/index.ts';
import { messageIndex } from '../../collab/shapes/message-index.ts';
import { inTransaction } from '../../core/index.ts';

export interface HistoryShape {
  channelId: string;
  segments: number;
  segmentMessages: number;
  /** Messages in the live part: the first half as the last rollover left them, the rest written by clients. */
  live: number;
  /** The messages' authors (the first one is the bench's own user). */
  authors: string[];
  seed: number;
}

/** A message of the sealed history, to page back from. */
export interface Landmark {
  id: string;
  seq: number;
  part: number;
}

export interface Written {
  messages: number;
  sealed: number;
  /** Sealed messages picked between a quarter and three quarters of the history. */
  middle: Landmark[];
  /** The live part's last message (what a client opening the channel must see). */
  lastId: string;
  ms: number;
}

/** Segments written per transaction: two transactions in flight, so Yjs encodes one while the database takes the other. */
const BATCH_SEGMENTS = 50;
const IN_FLIGHT = 2;
const MIDDLE_SAMPLES = 40;
const EMOJI = ['👍', '❤️', '😂', '🎉', '👀', '🙏', '🔥', '✅'];
const WORDS = ('the a to of and we it is on for this that with can be i you deploy review build test merge ticket ' +
  'release branch fix bug server client page board task call meeting notes tomorrow today later looks good thanks ' +
  'agreed maybe check please done working now error log metrics dashboard customer design draft update sync ' +
  'question answer idea plan sprint week friday standup lunch coffee link doc spec api schema migration backup').split(' ');

/** mulberry32: a small seeded generator, so a run's history is the same every time. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Messages as a team writes them, oldest first, a minute and a half apart on average (a million span about three
 * years): 20 authors, a few of them chatty; mostly short texts, some long; 10% thread replies to a recent message,
 * 15% with reactions, 5% edited, 1% deleted.
 */
function messagesOf(rng: () => number, authors: string[], count: number) {
  let at = Date.now() - count * 95_000;
  const roots: string[] = [];
  const pick = <T>(list: T[]) => list[Math.floor(rng() * list.length)]!;
  const text = () => {
    const r = rng();
    const words = r < 0.6 ? 2 + rng() * 10 : r < 0.9 ? 12 + rng() * 28 : 40 + rng() * 160;
    return Array.from({ length: Math.floor(words) }, () => pick(WORDS)).join(' ');
  };
  return (): Message => {
    at += 1000 + rng() * 188_000;
    const id = crypto.randomUUID();
    const author_id = authors[Math.floor(authors.length * rng() ** 2)]!;
    const reply = roots.length > 0 && rng() < 0.1;
    const reactions: Record<string, string[]> = {};
    if (rng() < 0.15) {
      for (let e = 1 + Math.floor(rng() * 3); e > 0; e--) {
        reactions[pick(EMOJI)] = [...new Set(Array.from({ length: 1 + Math.floor(rng() * 4) }, () => pick(authors)))].sort();
      }
    }
    const deleted = rng() < 0.01;
    const message: Message = {
      id, author_id, text: deleted ? '' : text(),
      created_at: new Date(at - rng() * 2000).toISOString(), received_at: new Date(at).toISOString(),
      edited_at: rng() < 0.05 ? new Date(at + rng() * 600_000).toISOString() : null,
      parent_id: reply ? roots[Math.floor(roots.length * (1 - rng() ** 3))]! : null,
      deleted, reactions: deleted ? {} : reactions,
    };
    if (!reply) {
      roots.push(id);
      if (roots.length > 50) roots.shift();
    }
    return message;
  };
}

/**
 * The live part as it is after the last rollover built its first half (one builder's transaction) and clients wrote
 * the rest, each message in its own transaction under its author's client id (three sessions per author), edits as
 * text replaced, reactions by each reacting user's client, deletions by the author: the tombstones and client ids a
 * live part really carries.
 */
function livePart(messages: Message[], authors: string[]): { state: Uint8Array; builder: number } {
  const doc = new Y.Doc();
  const builder = doc.clientID;
  const clients = new Map(authors.map((a, i) => [a, [0, 1, 2].map((s) => 1_000_000 + i * 10 + s)]));
  const as = (author: string, n: number, work: () => void) => {
    doc.clientID = clients.get(author)![n % 3]!;
    doc.transact(work);
  };
  try {
    const built = Math.ceil(messages.length / 2);
    chat.copyMessages(doc, messages.slice(0, built));
    messages.slice(built).forEach((m, n) => {
      const edited = m.edited_at !== null && !m.deleted;
      as(m.author_id, n, () => chat.copyMessages(doc, [{ ...m, text: edited ? `${m.text} (draft)` : m.text, edited_at: null, reactions: {} }]));
      if (edited) as(m.author_id, n, () => {
        chat.editMessage(doc, m.id, m.text);
        messageIndex(doc).get(m.id)!.set('edited_at', m.edited_at);
      });
      for (const [emoji, users] of Object.entries(m.reactions)) {
        for (const user of users) as(user, n, () => chat.react(doc, m.id, emoji, user, true));
      }
      if (m.deleted) as(m.author_id, n, () => chat.deleteMessage(doc, m.id));
    });
    return { state: Y.encodeStateAsUpdate(doc), builder };
  } finally {
    doc.destroy();
  }
}

/** Writes a channel's whole history (its channel row exists, with no content yet); progress on stderr. */
export async function writeHistory(pool: pg.Pool, keyring: Keyring, shape: HistoryShape): Promise<Written> {
  const t0 = performance.now();
  const rng = random(shape.seed);
  const sealed = shape.segments * shape.segmentMessages;
  const next = messagesOf(rng, shape.authors, sealed + shape.live);
  const wanted = new Set(Array.from({ length: Math.min(MIDDLE_SAMPLES, sealed) }, () => Math.floor(sealed * (0.25 + rng() / 2))));
  const middle: Landmark[] = [];
  const running = new Set<Promise<void>>();
  for (let part = 0; part < shape.segments; part += BATCH_SEGMENTS) {
    const segments: Message[][] = [];
    for (let p = part; p < Math.min(shape.segments, part + BATCH_SEGMENTS); p++) {
      const segment: Message[] = [];
      for (let i = 0; i < shape.segmentMessages; i++) {
        const seq = p * shape.segmentMessages + i;
        const m = next();
        if (wanted.has(seq)) middle.push({ id: m.id, seq, part: p });
        segment.push(m);
      }
      segments.push(segment);
    }
    const firstSeq = part * shape.segmentMessages;
    const batch = inTransaction(pool, (tx) => writeParts(tx, keyring, { channelId: shape.channelId, firstPart: part, firstSeq, segments }))
      .finally(() => running.delete(batch));
    running.add(batch);
    if (running.size >= IN_FLIGHT) await Promise.race(running);
    const done = part + segments.length;
    if (shape.segments >= 100 && done % (BATCH_SEGMENTS * 10) === 0) {
      process.stderr.write(`  ${done}/${shape.segments} segments (${done * shape.segmentMessages} messages) in` +
        ` ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
  }
  await Promise.all(running);
  const liveMessages = Array.from({ length: shape.live }, next);
  // The live generation's number is the rollovers that made this history (one per two segments, roughly).
  const live = {
    generation: Math.max(1, Math.ceil(shape.segments / 2)), ...livePart(liveMessages, shape.authors),
    oldestReceivedAt: liveMessages[0]?.received_at ?? null,
  };
  await inTransaction(pool, (tx) => writeParts(tx, keyring, {
    channelId: shape.channelId, live, firstPart: shape.segments, firstSeq: sealed, segments: [],
  }));
  return {
    messages: sealed + shape.live, sealed, middle: middle.sort((a, b) => a.seq - b.seq), lastId: liveMessages.at(-1)!.id,
    ms: Math.round(performance.now() - t0),
  };
}
