import { createHash } from 'node:crypto';
import { ChromaClient, type Collection, type Metadata, type Where } from 'chromadb';

export type { Where };

/** What each chunk carries besides its vector: enough to filter by permission and to cite. */
export interface ChunkMetadata extends Metadata {
  group_id: string;
  channel_id: string;
  channel_type: string;
  /** `message`, `task`, `card`, `page` or `file`. */
  source: string;
  /** Message, task or card ids, comma-separated (metadata values are scalars). */
  item_ids: string;
  file_id: string;
  page: number;
  /**
   * Which part of a chat it comes from: n for the segment `<channel id>/history/<n>`, -1 for the live part and for
   * everything else (files, other channel types). Chunks written before segments have no `part`: live part.
   */
  part: number;
}

export interface Chunk {
  id: string;
  text: string;
  metadata: ChunkMetadata;
}

/**
 * Who may read what a search returns, as few names as possible: whole groups (a member reads every non-voice
 * channel of their group), and single channels (DMs, or channels a search was narrowed to).
 */
export interface Readers {
  groups: string[];
  channels: string[];
}

export interface Hit extends Chunk {
  /** Cosine distance: 0 is the same direction. */
  distance: number;
}

export interface VectorStore {
  readonly collectionName: string;
  /** Ids of the chunks that match a Chroma `where` (e.g. one channel's document, or one file). */
  idsOf(where: Where): Promise<string[]>;
  upsert(chunks: Chunk[], vectors: number[][]): Promise<void>;
  delete(ids: string[]): Promise<void>;
  deleteWhere(where: Where): Promise<void>;
  /** The nearest chunks that `readers` may read, and no others (see `query` below for how). */
  query(vector: number[], readers: Readers, topK: number): Promise<Hit[]>;
  /** What has chunks, for reconciliation: the parts (see ChunkMetadata.part) by channel id, and the files. */
  indexed(): Promise<{ parts: Map<string, Set<number>>; files: Set<string> }>;
  heartbeat(): Promise<boolean>;
  count(): Promise<number>;
}

/** Chroma caps a batch; stay well under it. */
const BATCH = 200;

/**
 * How many times top_k the unfiltered first look at a search takes (see `query`): enough that a caller who reads a
 * good share of the chunks usually finds top_k readable ones there, small enough to cost about a plain search.
 */
const PROBE = 4;

/** A DM's chunks carry group_id '': naming that "group" would read every DM, so it is never a group. */
const groupsOf = (readers: Readers) => readers.groups.filter((group) => group !== '');

/** The Chroma filter of `readers`: a chunk of one of the groups, or of one of the channels; undefined for none. */
export function readersWhere(readers: Readers): Where | undefined {
  const groups = groupsOf(readers);
  const terms: Where[] = [];
  if (groups.length) terms.push({ group_id: { $in: groups } });
  if (readers.channels.length) terms.push({ channel_id: { $in: readers.channels } });
  return terms.length > 1 ? { $or: terms } : terms[0];
}

/** The same test on one chunk's metadata. */
function readersTest(readers: Readers): (metadata: ChunkMetadata) => boolean {
  const groups = new Set(groupsOf(readers));
  const channels = new Set(readers.channels);
  return (m) => groups.has(m.group_id) || channels.has(m.channel_id);
}

/**
 * The model and its dimension name the collection, so a new model never mixes its vectors with the old one's:
 * changing EMBEDDING_MODEL indexes into a fresh collection (the sweep fills it).
 */
export function collectionNameFor(model: string, dim: number): string {
  let slug = model.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  // Chroma names are at most 63 characters: a long model id keeps a hash of itself instead of its tail.
  if (slug.length > 40) slug = `${slug.slice(0, 31)}-${createHash('sha256').update(model).digest('hex').slice(0, 8)}`;
  return `chunks_${slug}_${dim}`;
}

export async function openVectorStore(url: string, model: string, dim: number): Promise<VectorStore> {
  const { hostname, port, protocol } = new URL(url);
  const client = new ChromaClient({ host: hostname, port: Number(port || (protocol === 'https:' ? 443 : 80)), ssl: protocol === 'https:' });
  const collectionName = collectionNameFor(model, dim);
  const collection: Collection = await client.getOrCreateCollection({
    name: collectionName,
    embeddingFunction: null,
    metadata: { model, dimension: dim },
    configuration: { hnsw: { space: 'cosine' } },
  });

  const allIds = async (where: Where): Promise<string[]> => {
    const ids: string[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await collection.get({ where, include: [], limit: 1000, offset });
      ids.push(...page.ids);
      if (page.ids.length < 1000) return ids;
    }
  };

  return {
    collectionName,
    idsOf: (where) => allIds(where),
    async upsert(chunks, vectors) {
      for (let i = 0; i < chunks.length; i += BATCH) {
        const batch = chunks.slice(i, i + BATCH);
        await collection.upsert({
          ids: batch.map((c) => c.id),
          embeddings: vectors.slice(i, i + BATCH),
          documents: batch.map((c) => c.text),
          metadatas: batch.map((c) => c.metadata),
        });
      }
    },
    async delete(ids) {
      for (let i = 0; i < ids.length; i += BATCH) await collection.delete({ ids: ids.slice(i, i + BATCH) });
    },
    async deleteWhere(where) {
      await collection.delete({ where });
    },
    async query(vector, readers, topK) {
      const where = readersWhere(readers);
      // Nothing readable: Chroma refuses an empty `$in`, and there is nothing to find anyway.
      if (!where) return [];
      const search = async (where: Where | undefined, n: number) => {
        const result = await collection.query({
          queryEmbeddings: [vector], nResults: n, where, include: ['documents', 'metadatas', 'distances'],
        });
        return result.ids[0]!.map((id, i): Hit => ({
          id,
          text: result.documents[0]![i] ?? '',
          metadata: result.metadatas[0]![i] as ChunkMetadata,
          distance: result.distances?.[0]?.[i] ?? 1,
        }));
      };
      // Chroma answers any `where` by first listing every chunk it matches (its SQLite metadata, then one lookup
      // per chunk), so a filtered search costs in proportion to what the caller may read, however short the
      // filter. So first the nearest chunks of all, unfiltered: when at least top_k of them are readable, the
      // first top_k readable ones are exactly the filtered search's answer (every readable chunk not among them
      // is farther), and nothing was crowded out. Otherwise the search runs again with the filter in Chroma.
      const readable = readersTest(readers);
      const nearest = (await search(undefined, topK * PROBE)).filter((hit) => readable(hit.metadata)).slice(0, topK);
      if (nearest.length === topK) return nearest;
      return search(where, topK);
    },
    async indexed() {
      const parts = new Map<string, Set<number>>();
      const files = new Set<string>();
      for (let offset = 0; ; offset += 1000) {
        const page = await collection.get({ include: ['metadatas'], limit: 1000, offset });
        for (const m of page.metadatas) {
          if (!m?.channel_id) continue;
          const channel = String(m.channel_id);
          if (!parts.has(channel)) parts.set(channel, new Set());
          parts.get(channel)!.add(typeof m.part === 'number' ? m.part : -1);
          if (m.source === 'file' && m.file_id) files.add(String(m.file_id));
        }
        if (page.ids.length < 1000) return { parts, files };
      }
    },
    async heartbeat() {
      try {
        await client.heartbeat();
        return true;
      } catch {
        return false;
      }
    },
    count: () => collection.count(),
  };
}
