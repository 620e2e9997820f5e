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
}

export interface Chunk {
  id: string;
  text: string;
  metadata: ChunkMetadata;
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
  /** The nearest chunks among the given channels only (the filter runs inside Chroma). */
  query(vector: number[], channelIds: string[], topK: number): Promise<Hit[]>;
  /** Channel ids that have chunks, for reconciliation. */
  channelIds(): Promise<Set<string>>;
  heartbeat(): Promise<boolean>;
  count(): Promise<number>;
}

/** Chroma caps a batch; stay well under it. */
const BATCH = 200;

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
    async query(vector, channelIds, topK) {
      // An empty list is an error in Chroma, and would mean "nothing may be read" anyway.
      if (!channelIds.length) return [];
      const result = await collection.query({
        queryEmbeddings: [vector],
        nResults: topK,
        where: { channel_id: { $in: channelIds } },
        include: ['documents', 'metadatas', 'distances'],
      });
      return result.ids[0]!.map((id, i) => ({
        id,
        text: result.documents[0]![i] ?? '',
        metadata: result.metadatas[0]![i] as ChunkMetadata,
        distance: result.distances?.[0]?.[i] ?? 1,
      }));
    },
    async channelIds() {
      const ids = new Set<string>();
      for (let offset = 0; ; offset += 1000) {
        const page = await collection.get({ include: ['metadatas'], limit: 1000, offset });
        for (const m of page.metadatas) if (m?.channel_id) ids.add(String(m.channel_id));
        if (page.ids.length < 1000) return ids;
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
