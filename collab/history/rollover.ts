import type pg from 'pg';
import * as Y from 'yjs';
import { inTransaction, type Queryable } from '../../core/index.ts';
import { copyMessages, inReceiptOrder, readMessages, receivedAt, type Message } from '../shapes/chat.ts';
import type { DocumentStore } from '../storage/document-store.ts';
import type { Keyring } from '../storage/keyring.ts';
import { forgetGenerations } from './live-parts.ts';
import { generationStorageName, segmentName } from './names.ts';

export interface HistoryLimits {
  /** A live part holding more messages than this is rolled over… */
  liveMessages: number;
  /** …or more characters of text than this (messages may be up to 10,000 characters each). */
  liveCharacters: number;
  /** Messages per sealed segment. */
  segmentMessages: number;
  /**
   * Days a sealed generation's rows are kept: a client of that generation coming back later has its new messages
   * taken over, but its edits of older ones cannot be told apart any more (stale.ts).
   */
  keepGenerationsDays: number;
}

/** The NOTIFY channel that tells every instance of a rollover, or of a segment dropped by retention. */
export const HISTORY_EVENTS = 'chat_history';

export type HistoryEvent =
  | { event: 'rolled-over'; channelId: string; generation: number; storageName: string }
  | { event: 'dropped'; channelId: string; name: string };

export interface RolledOver {
  channelId: string;
  generation: number;
  storageName: string;
  /** Messages sealed into segments, and the segments made (their document names). */
  sealed: number;
  segments: string[];
  kept: number;
}

interface GenerationRow {
  generation: number;
  storage_name: string;
  next_part: number;
  next_seq: string;
}

/**
 * How many of the newest messages stay live: half the count limit, fewer when their text is long, at least one
 * (a generation's first content is written by its builder, whose client id tells clients of older generations).
 */
function liveShare(ordered: Message[], limits: HistoryLimits): number {
  let kept = 0;
  let characters = 0;
  for (let i = ordered.length - 1; i >= 0 && kept < limits.liveMessages / 2; i--) {
    characters += ordered[i]!.text.length;
    if (kept > 0 && characters > limits.liveCharacters / 2) break;
    kept++;
  }
  return Math.max(1, kept);
}

function encode(messages: Message[]): { state: Uint8Array; builder: number } {
  const doc = new Y.Doc();
  try {
    copyMessages(doc, messages);
    return { state: Y.encodeStateAsUpdate(doc), builder: doc.clientID };
  } finally {
    doc.destroy();
  }
}

/** What `writeParts` writes: new sealed segments and, with `live`, the generation of the live part after them. */
export interface Parts {
  channelId: string;
  /** A new generation of the live part: its state, and the Yjs client id that wrote its first content. */
  live?: { generation: number; state: Uint8Array; builder: number; oldestReceivedAt: string | null };
  /** The first new segment's part number, and its first message's position in the channel's history. */
  firstPart: number;
  firstSeq: number;
  /** Each new segment's messages, oldest first. */
  segments: Message[][];
}

/**
 * Writes, in the caller's transaction, sealed segments (encrypted snapshots under their document names, with fences),
 * their rows and their messages' index rows, and the new generation of the live part if there is one. A rollover's
 * second step; bench/chat writes long histories with it in batches (segments only, then the live part).
 */
export async function writeParts(tx: Queryable, keyring: Keyring, { channelId, live, firstPart, firstSeq, segments }: Parts) {
  const sealing = segments.flat();
  const names = segments.map((_, i) => segmentName(channelId, firstPart + i));
  const documents = segments.map((messages, i) => ({ name: names[i]!, state: encode(messages).state }));
  if (live) {
    const storageName = generationStorageName(channelId, live.generation);
    await tx.query(
      `INSERT INTO chat_generations
         (channel_id, generation, storage_name, builder_client, next_part, next_seq, oldest_received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        channelId, live.generation, storageName, live.builder, firstPart + segments.length, firstSeq + sealing.length,
        live.oldestReceivedAt,
      ],
    );
    documents.unshift({ name: storageName, state: live.state });
  }
  await tx.query('INSERT INTO document_fences (document_name) SELECT unnest($1::text[])', [documents.map((d) => d.name)]);
  const snapshots = documents.map(({ name, state }) => ({ name, ...keyring.seal(state, name) }));
  await tx.query(
    `INSERT INTO document_snapshots (document_name, key_id, payload)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[])`,
    [snapshots.map((s) => s.name), snapshots.map((s) => s.keyId), snapshots.map((s) => s.payload)],
  );
  await tx.query(
    `INSERT INTO chat_segments (channel_id, part, document_name, message_count, first_received_at, last_received_at)
     SELECT $1, * FROM unnest($2::int[], $3::text[], $4::int[], $5::timestamptz[], $6::timestamptz[])`,
    [
      channelId, segments.map((_, i) => firstPart + i), names, segments.map((s) => s.length),
      segments.map((s) => receivedAt(s[0]!)), segments.map((s) => receivedAt(s.at(-1)!)),
    ],
  );
  const parts = segments.flatMap((s, i) => s.map(() => firstPart + i));
  await tx.query(
    `INSERT INTO chat_messages (channel_id, message_id, part, seq, parent_id, received_at)
     SELECT $1, * FROM unnest($2::text[], $3::int[], $4::bigint[], $5::text[], $6::timestamptz[])
     ON CONFLICT DO NOTHING`,
    [
      channelId, sealing.map((m) => m.id), parts, sealing.map((_, i) => firstSeq + i),
      sealing.map((m) => m.parent_id), sealing.map(receivedAt),
    ],
  );
}

/**
 * Rolls a chat's live part over: seals its current generation (no append is taken after that: see the fence in
 * migration 010), reads everything it ever stored, writes its oldest messages into new sealed segments and the
 * rest into a new generation of the live part, in the order the server first stored them, and announces it.
 * Two steps: what was acknowledged before the seal is in what is read, and what came after was refused (its
 * client still holds it and sends it again: see `stale.ts`). Finding the latest generation sealed means a
 * rollover is under way or crashed between the steps; running this again completes it (two instances doing so
 * at once conflict on the new generation's key, and one of them gives way).
 */
export async function rollOver(
  pool: pg.Pool,
  store: DocumentStore,
  keyring: Keyring,
  channelId: string,
  /** The generation to roll over: if the live part has moved on since it was chosen, nothing is done. */
  generation: number,
  limits: HistoryLimits,
): Promise<RolledOver | undefined> {
  const current = await inTransaction(pool, async (tx) => {
    const { rows: [row] } = await tx.query<GenerationRow>(
      `SELECT generation, storage_name, next_part, next_seq::text FROM chat_generations
       WHERE channel_id = $1 ORDER BY generation DESC LIMIT 1`,
      [channelId],
    );
    if (!row || row.generation !== generation) return undefined;
    // Waits for the appends in flight (they hold the row FOR KEY SHARE), so what is read next is all there is.
    await tx.query('SELECT 1 FROM document_fences WHERE document_name = $1 FOR UPDATE', [row.storage_name]);
    await tx.query(
      `INSERT INTO document_fences (document_name, sealed, sealed_at) VALUES ($1, true, now())
       ON CONFLICT (document_name) DO UPDATE SET sealed = true, sealed_at = coalesce(document_fences.sealed_at, now())`,
      [row.storage_name],
    );
    return row;
  });
  if (!current) return undefined;

  const stored = await store.load(current.storage_name);
  const doc = new Y.Doc();
  let ordered: Message[];
  try {
    for (const part of stored.parts) Y.applyUpdate(doc, part);
    // The first message with an id is the one readers see (ids are unique since the write rules, not before).
    const seen = new Set<string>();
    ordered = inReceiptOrder(readMessages(doc).filter((m) => !seen.has(m.id) && seen.add(m.id)));
  } finally {
    doc.destroy();
  }
  // Whole segments where there are enough to fill one; the rest stays live.
  const over = ordered.length - Math.min(ordered.length, liveShare(ordered, limits));
  const full = over - (over % limits.segmentMessages);
  const sealing = ordered.slice(0, full || over);
  const kept = ordered.slice(sealing.length);
  const segments: Message[][] = [];
  for (let i = 0; i < sealing.length; i += limits.segmentMessages) {
    segments.push(sealing.slice(i, i + limits.segmentMessages));
  }
  const live = encode(kept);
  const next = generation + 1;
  const storageName = generationStorageName(channelId, next);

  try {
    await inTransaction(pool, async (tx) => {
      await writeParts(tx, keyring, {
        channelId, live: { generation: next, ...live, oldestReceivedAt: kept[0] ? receivedAt(kept[0]) : null }, firstPart: current.next_part, firstSeq: Number(current.next_seq),
        segments,
      });
      const event: HistoryEvent = { event: 'rolled-over', channelId, generation: next, storageName };
      await tx.query('SELECT pg_notify($1, $2)', [HISTORY_EVENTS, JSON.stringify(event)]);
      await forgetGenerations(tx, channelId, { sealedBefore: new Date(Date.now() - limits.keepGenerationsDays * 86_400_000) });
    });
  } catch (err) {
    // Another instance completed this rollover first.
    if ((err as { constraint?: string }).constraint?.startsWith('chat_generations_')) return undefined;
    throw err;
  }
  const names = segments.map((_, i) => segmentName(channelId, current.next_part + i));
  return { channelId, generation: next, storageName, sealed: sealing.length, segments: names, kept: kept.length };
}
