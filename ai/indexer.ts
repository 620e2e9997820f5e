import type pg from 'pg';
import { channelOf, parseSegmentName, type Keyring } from '../collab/index.ts';
import type { Logger } from '../core/index.ts';
import { chunkId, chunkPieces, paragraphs, type ChunkText, type Piece } from './chunking.ts';
import { documentReader } from './document-pieces.ts';
import type { Embedder } from './embedder.ts';
import type { Chunk, VectorStore, Where } from './vector-store.ts';

/** The text of an uploaded file, page by page (a text file is one page). */
export interface FileText {
  channelId: string;
  filename: string;
  pages: string[];
}

export interface IndexerDeps {
  pool: pg.Pool;
  /** Document storage's own pool. */
  storage: pg.Pool;
  keyring: Keyring;
  vectors: VectorStore;
  embedder: Embedder;
  readFileText(fileId: string): Promise<FileText | undefined>;
  log: Logger;
}

export interface IndexResult {
  chunks: number;
  embedded: number;
  deleted: number;
}

export interface Indexer {
  /** A channel's content by its id (a chat's live part), or a chat segment by its name (`<channel id>/history/<n>`). */
  indexDocument(name: string): Promise<IndexResult>;
  indexFile(fileId: string): Promise<IndexResult>;
}

/** Where a chunk comes from, apart from its place inside the source. */
interface ChunkOwner {
  group_id: string;
  channel_id: string;
  channel_type: string;
  file_id: string;
  part: number;
}

interface ChannelRow {
  type: string;
  group_id: string | null;
}

/**
 * Brings Chroma in step with one source: chunks whose content hash is new are embedded and written, chunks that
 * are no longer there (edited, deleted, expired by retention) are removed, and unchanged ones are left alone.
 */
export function createIndexer(deps: IndexerDeps): Indexer {
  const { pool, vectors, embedder } = deps;
  const readPieces = documentReader(pool, deps.storage, deps.keyring);

  async function channel(channelId: string): Promise<ChannelRow | undefined> {
    const { rows } = await pool.query<ChannelRow>('SELECT type, group_id FROM channels WHERE id = $1', [channelId]);
    return rows[0];
  }

  async function sync(where: Where, wanted: Chunk[]): Promise<IndexResult> {
    const existing = new Set(await vectors.idsOf(where));
    const fresh = wanted.filter((c) => !existing.has(c.id));
    const keep = new Set(wanted.map((c) => c.id));
    const stale = [...existing].filter((id) => !keep.has(id));
    if (fresh.length) await vectors.upsert(fresh, await embedder.embed(fresh.map((c) => c.text)));
    if (stale.length) await vectors.delete(stale);
    return { chunks: wanted.length, embedded: fresh.length, deleted: stale.length };
  }

  function toChunks(owner: string, texts: ChunkText[], meta: ChunkOwner): Chunk[] {
    const byId = new Map<string, Chunk>();
    for (const t of texts) {
      const id = chunkId(owner, t);
      byId.set(id, { id, text: t.text, metadata: { ...meta, source: t.source, item_ids: t.itemIds.join(','), page: t.page } });
    }
    return [...byId.values()];
  }

  return {
    async indexDocument(name) {
      const segment = parseSegmentName(name);
      const channelId = channelOf(name);
      const row = await channel(channelId);
      const meta = (part: number): ChunkOwner => ({
        group_id: row?.group_id ?? '', channel_id: channelId, channel_type: row?.type ?? '', file_id: '', part,
      });
      if (segment) {
        // A segment is its own source: only its chunks are compared, so a store of one part re-indexes that part.
        const where: Where = { $and: [{ channel_id: channelId }, { part: segment.part }] };
        const { rows: [listed] } = await pool.query('SELECT 1 FROM chat_segments WHERE channel_id = $1 AND part = $2', [channelId, segment.part]);
        // Dropped by retention (or never sealed): its chunks go.
        if (!row || !listed) return sync(where, []);
        return sync(where, toChunks(name, chunkPieces(await readPieces(name, row.type)), meta(segment.part)));
      }
      // The live part (or any other channel's content): every chunk of the channel that is no file's and no listed
      // segment's. That takes in chunks written before segments (no `part`), and those of a dropped segment not
      // yet forgotten, which then go.
      const { rows: parts } = await pool.query<{ part: number }>('SELECT part FROM chat_segments WHERE channel_id = $1', [channelId]);
      const where: Where = { $and: [
        { channel_id: channelId }, { source: { $ne: 'file' } }, ...(parts.length ? [{ part: { $nin: parts.map((p) => p.part) } }] : []),
      ] };
      if (!row || row.type === 'VOICE') return sync(where, []);
      return sync(where, toChunks(channelId, chunkPieces(await readPieces(channelId, row.type)), meta(-1)));
    },

    async indexFile(fileId) {
      const file = await deps.readFileText(fileId);
      const row = file && (await channel(file.channelId));
      if (!file || !row) return sync({ file_id: fileId }, []);
      const pieces: Piece[] = file.pages.flatMap((text, i) =>
        paragraphs(text).map((p) => ({ text: p, source: 'file' as const, itemIds: [fileId], page: i + 1 })),
      );
      const chunks = toChunks(fileId, chunkPieces(pieces), {
        group_id: row.group_id ?? '', channel_id: file.channelId, channel_type: row.type, file_id: fileId, part: -1,
      });
      return sync({ file_id: fileId }, chunks);
    },
  };
}
