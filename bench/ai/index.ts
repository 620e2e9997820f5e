// `npm run bench:ai`: indexing throughput (embedding and Chroma separately) and search latency p50/p95 over a
// generated corpus of 10,000 chunks, through our embedder (ai/embedder.ts) and vector store (ai/vector-store.ts).
// Human-readable lines first; the last line is one JSON object.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AutoTokenizer, env as transformersEnv } from '@huggingface/transformers';
import { ChromaClient } from 'chromadb';
import { pino } from 'pino';
import { createEmbedder, type Embedder } from '../../ai/embedder.ts';
import { startLocalChroma, type LocalChroma } from '../../ai/local-chroma.ts';
import { writeTestModel } from '../../ai/test/model-folder.ts';
import { openVectorStore, readersWhere, type Readers, type VectorStore } from '../../ai/vector-store.ts';
import { runBench } from '../shared/child.ts';
import { envInt } from '../shared/setup.ts';
import { percentile, round } from '../shared/stats.ts';
import { generateCorpus, type Channel } from './corpus.ts';

const WARMUP_QUERIES = 10;
const TOKEN_SAMPLE = 500;
/** The model's input bound: all-MiniLM-L6-v2 (and the stand-in's tokenizer_config) truncate beyond it. */
const MAX_TOKENS = 256;

let dir: string | undefined;
let embedder: Embedder | undefined;
let chroma: LocalChroma | undefined;
let remote: { url: string; collection: string } | undefined;

const cleanup = async () => {
  await embedder?.close().catch(() => {});
  // On a shared Chroma the benchmark's own collection goes; a local one goes with its folder.
  if (remote) await chromaClient(remote.url).deleteCollection({ name: remote.collection })
    .catch((err) => console.error(`deleting the collection ${remote!.collection} failed: ${err}`));
  await chroma?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
};

function chromaClient(url: string): ChromaClient {
  const { hostname, port, protocol } = new URL(url);
  return new ChromaClient({ host: hostname, port: Number(port || (protocol === 'https:' ? 443 : 80)), ssl: protocol === 'https:' });
}

async function diskBytes(folder: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

const ms = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 0.5)), p95: round(percentile(sorted, 0.95)), max: round(sorted.at(-1) ?? NaN) };
};
const perSecond = (count: number, millis: number) => round(count / (millis / 1000), 1);
const stats = (list: number[]) => ({ mean: round(list.reduce((a, b) => a + b, 0) / list.length, 1), min: Math.min(...list), max: Math.max(...list) });

/** The model: a real folder (BENCH_MODELS_DIR + EMBEDDING_MODEL), else the stand-in written into `tmp`. */
async function resolveModel(tmp: string): Promise<{ modelsDir: string; name: string; standIn: boolean }> {
  const modelsDir = process.env.BENCH_MODELS_DIR;
  if (!modelsDir) return { ...(await writeTestModel(path.join(tmp, 'models'))), standIn: true };
  const name = process.env.EMBEDDING_MODEL ?? 'Xenova/all-MiniLM-L6-v2';
  // createEmbedder would try to download a missing model; a benchmark must measure what is there.
  if (!existsSync(path.join(modelsDir, name, 'config.json'))) throw new Error(`no model folder at ${path.join(modelsDir, name)}`);
  return { modelsDir: path.resolve(modelsDir), name, standIn: false };
}

/** Token counts of a sample of chunks, by the model's own tokenizer (the figure embedding speed depends on). */
async function tokenCounts(modelsDir: string, name: string, texts: string[]): Promise<number[]> {
  transformersEnv.localModelPath = modelsDir;
  transformersEnv.allowRemoteModels = false;
  const tokenizer = await AutoTokenizer.from_pretrained(name);
  return texts.map((text) => tokenizer.encode(text).length);
}

interface Filter {
  name: string;
  /** Who searches, given the channel of the chunk the query was taken from. */
  readers: (chunkChannel: string) => Readers;
  /**
   * How Chroma is asked: `store`, VectorStore.query (the search users run); `where`, for comparison, one query
   * with the filter inside Chroma and nothing else (VectorStore.query's fallback; with channel ids, the search as
   * it was before groups); `none`, the baseline with no `where` at all (no search a user may run).
   */
  how: 'store' | 'where' | 'none';
}

await runBench('ai', async () => {
  // Read here, so that a bad knob ends in the error line too.
  const chunkCount = envInt('BENCH_CHUNKS', 10_000);
  const channelCount = envInt('BENCH_CHANNELS', 50);
  const groupCount = envInt('BENCH_GROUPS', 5);
  const queryCount = envInt('BENCH_QUERIES', 200);
  const topK = envInt('BENCH_TOP_K', 8);
  const batchSize = envInt('EMBEDDING_BATCH', 16);
  const seed = envInt('BENCH_SEED', 1);
  const dtype = process.env.EMBEDDING_DTYPE ?? 'q8';
  if (dtype !== 'q8' && dtype !== 'fp32') throw new Error('EMBEDDING_DTYPE must be q8 or fp32');
  if (groupCount > channelCount) throw new Error('BENCH_GROUPS must not exceed BENCH_CHANNELS');
  dir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-bench-ai-'));
  const log = pino({ level: process.env.BENCH_LOG_LEVEL ?? 'warn' }, pino.destination(2));

  const model = await resolveModel(dir);
  const corpus = await generateCorpus({ chunks: chunkCount, channels: channelCount, groups: groupCount, seed });
  const texts = corpus.chunks.map((c) => c.text);
  const sample = texts.filter((_, i) => i % Math.max(1, Math.floor(texts.length / TOKEN_SAMPLE)) === 0).slice(0, TOKEN_SAMPLE);
  const tokens = await tokenCounts(model.modelsDir, model.name, sample);
  const words = stats(corpus.words);
  const tokenStats = { ...stats(tokens), truncated_share: round(tokens.filter((n) => n > MAX_TOKENS).length / tokens.length, 3), sampled: tokens.length };
  console.log(`${chunkCount} chunks over ${channelCount} channels in ${groupCount} groups; words per chunk ${words.min}-${words.max}` +
    ` (mean ${words.mean}); tokens per chunk ${tokenStats.min}-${tokenStats.max} (mean ${tokenStats.mean}, ${tokens.length} sampled)`);
  console.log(model.standIn
    ? `model: the STAND-IN test model (ai/test/model-folder.ts: one Gather, no transformer layers), ${dtype}, batch ${batchSize}:` +
      ' its embedding figures are tokenization and plumbing, not all-MiniLM-L6-v2\'s inference'
    : `model: ${model.name} from ${model.modelsDir}, ${dtype}, batch ${batchSize}`);

  // 1. Embedding: model load (the first call), then every chunk through the worker thread in bounded batches.
  embedder = createEmbedder({ modelsDir: model.modelsDir, model: model.name, dtype, batchSize });
  let started = performance.now();
  const dim = await embedder.dimension();
  const loadMs = performance.now() - started;
  const vectors: number[][] = [];
  started = performance.now();
  const step = 1000;
  for (let i = 0; i < texts.length; i += step) {
    vectors.push(...(await embedder.embed(texts.slice(i, i + step))));
    if (texts.length > step) console.log(`  embedded ${vectors.length}/${texts.length} (${perSecond(vectors.length, performance.now() - started)} chunks/s)`);
  }
  const embedMs = performance.now() - started;
  const embedding = { chunks_per_s: perSecond(texts.length, embedMs), seconds: round(embedMs / 1000, 1), load_ms: Math.round(loadMs) };
  console.log(`embedding: ${embedding.chunks_per_s} chunks/s (${embedding.seconds} s for ${texts.length}; model load ${embedding.load_ms} ms, dimension ${dim})`);

  // 2. Chroma: the same chunks and vectors written by VectorStore.upsert (batches of 200, in order), into a
  // collection of this run's own, so a shared Chroma's real collections are never touched.
  let url = process.env.CHROMA_URL;
  if (!url) {
    chroma = await startLocalChroma(path.join(dir, 'chroma'), log);
    url = chroma.url;
  }
  const chromaVersion = await chromaClient(url).version().catch(() => 'unknown');
  const store: VectorStore = await openVectorStore(url, `bench-ai-${process.pid}-${Date.now().toString(36)}`, dim);
  if (!chroma) remote = { url, collection: store.collectionName };
  if (await store.count()) throw new Error(`collection ${store.collectionName} is not empty`);
  started = performance.now();
  await store.upsert(corpus.chunks, vectors);
  const upsertMs = performance.now() - started;
  const stored = await store.count();
  if (stored !== chunkCount) throw new Error(`Chroma holds ${stored} chunks, not ${chunkCount}`);
  const upsert = { chunks_per_s: perSecond(chunkCount, upsertMs), seconds: round(upsertMs / 1000, 1), batch: 200 };
  console.log(`Chroma ${chromaVersion} (${chroma ? 'local, npm CLI' : 'CHROMA_URL'}): upsert ${upsert.chunks_per_s} chunks/s (${upsert.seconds} s)`);
  const together = perSecond(chunkCount, embedMs + upsertMs);
  console.log(`indexing, embedding + upsert one after the other: ${together} chunks/s`);

  // 3. What the indexer asks Chroma before every document it indexes: the ids of that channel's chunks.
  const lookups: number[] = [];
  for (const channel of corpus.channels) {
    started = performance.now();
    const ids = await store.idsOf({ $and: [{ channel_id: channel.id }, { source: { $ne: 'file' } }] });
    lookups.push(performance.now() - started);
    const expected = corpus.chunks.filter((c) => c.metadata.channel_id === channel.id).length;
    if (ids.length !== expected) throw new Error(`idsOf found ${ids.length} chunks of a channel, not ${expected}`);
  }
  const lookup = ms(lookups);
  console.log(`indexer lookup (idsOf one channel, ${Math.round(chunkCount / channelCount)} chunks each): p50 ${lookup.p50} ms, p95 ${lookup.p95} ms`);

  // 4. Search as POST /api/ai/search does it: embed the query, then the nearest top_k among what the caller reads.
  // Queries are words of chunks in the first group's channels; every filter contains their chunk's channel.
  const groups = [...new Set(corpus.channels.map((c) => c.groupId))];
  const allChannels = corpus.channels.map((c) => c.id);
  const userGroup = groups[0]!;
  const filters: Filter[] = [
    { name: 'one_channel', readers: (own) => ({ groups: [], channels: [own] }), how: 'store' },
    { name: 'user_1_group', readers: () => ({ groups: [userGroup], channels: [] }), how: 'store' },
    { name: `all_${groups.length}_groups`, readers: () => ({ groups, channels: [] }), how: 'store' },
    { name: 'user_1_group_where_only', readers: () => ({ groups: [userGroup], channels: [] }), how: 'where' },
    { name: `all_${groups.length}_groups_where_only`, readers: () => ({ groups, channels: [] }), how: 'where' },
    { name: `all_${allChannels.length}_channels_where_only`, readers: () => ({ groups: [], channels: allChannels }), how: 'where' },
    { name: 'no_filter', readers: () => ({ groups, channels: [] }), how: 'none' },
  ];
  const channelsOf = (readers: Readers) =>
    corpus.channels.filter((c: Channel) => readers.groups.includes(c.groupId) || readers.channels.includes(c.id)).map((c) => c.id);
  // For the comparisons: the same collection, queried as VectorStore.query does, in one query.
  const collection = await chromaClient(url).getCollection({ name: store.collectionName });
  const direct = async (vector: number[], readers: Readers | undefined) => {
    const result = await collection.query({
      queryEmbeddings: [vector], nResults: topK, where: readers && readersWhere(readers), include: ['documents', 'metadatas', 'distances'],
    });
    return result.ids[0]!.map((id, i) => ({ id, metadata: { channel_id: String(result.metadatas[0]![i]?.channel_id) } }));
  };
  const userChannels = channelsOf({ groups: [userGroup], channels: [] });
  const userChunks = corpus.chunks.flatMap((c, i) => (userChannels.includes(c.metadata.channel_id) ? [i] : []));
  const queries = Array.from({ length: WARMUP_QUERIES + queryCount }, () => corpus.query(userChunks));
  const perChannel = new Map<string, number>();
  for (const c of corpus.chunks) perChannel.set(c.metadata.channel_id, (perChannel.get(c.metadata.channel_id) ?? 0) + 1);
  const samples = filters.map(() => ({ whole: [] as number[], embed: [] as number[], chroma: [] as number[], recall: [] as number[] }));
  const answered: { q: number; f: number; vector: number[]; allowed: string[]; hits: string[] }[] = [];
  for (const [q, query] of queries.entries()) {
    const own = corpus.chunks[query.chunk]!.metadata.channel_id;
    // Each query under every filter, the filters' order rotating, so noise falls on all of them alike.
    for (let k = 0; k < filters.length; k++) {
      const f = (q + k) % filters.length;
      const filter = filters[f]!;
      const readers = filter.readers(own);
      const allowed = channelsOf(readers);
      const t0 = performance.now();
      const [vector] = await embedder.embed([query.text]);
      const t1 = performance.now();
      const hits = filter.how === 'store' ? await store.query(vector!, readers, topK) : await direct(vector!, filter.how === 'where' ? readers : undefined);
      const t2 = performance.now();
      const expected = Math.min(topK, allowed.reduce((n, id) => n + (perChannel.get(id) ?? 0), 0));
      if (hits.length !== expected) throw new Error(`a search returned ${hits.length} hits, not ${expected}`);
      if (hits.some((h) => !allowed.includes(h.metadata.channel_id))) throw new Error('a search returned a chunk outside its filter');
      if (q < WARMUP_QUERIES) continue;
      const s = samples[f]!;
      s.whole.push(t2 - t0);
      s.embed.push(t1 - t0);
      s.chroma.push(t2 - t1);
      answered.push({ q, f, vector: vector!, allowed, hits: hits.map((h) => h.id) });
    }
  }
  // Recall against an exact search over the same vectors (after the timing): the share of Chroma's hits that are
  // as near as the exact k-th nearest allowed chunk, so that a fast search that misses shows as one. The
  // distances to every chunk are computed once per query (all filters embed the same text).
  const position = new Map(corpus.chunks.map((c, i) => [c.id, i]));
  const flat = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => flat.set(v, i * dim));
  let distances: { q: number; to: Float32Array } | undefined;
  for (const { q, f, vector, allowed, hits } of answered) {
    if (distances?.q !== q) {
      const to = new Float32Array(vectors.length);
      for (let i = 0; i < vectors.length; i++) {
        let dot = 0;
        for (let d = 0; d < dim; d++) dot += flat[i * dim + d]! * vector[d]!;
        to[i] = 1 - dot;
      }
      distances = { q, to };
    }
    const to = distances.to;
    const readable = new Set(allowed);
    const exact = corpus.chunks.flatMap((c, i) => (readable.has(c.metadata.channel_id) ? [to[i]!] : [])).sort((a, b) => a - b);
    const kth = exact[hits.length - 1]!;
    samples[f]!.recall.push(hits.filter((id) => to[position.get(id)!]! <= kth + 1e-5).length / hits.length);
  }
  const search = Object.fromEntries(filters.map((filter, f) => {
    const s = samples[f]!;
    const [whole, chromaPart, embedPart] = [ms(s.whole), ms(s.chroma), ms(s.embed)];
    const recall = round(s.recall.reduce((a, b) => a + b, 0) / s.recall.length, 3);
    const channels = filter.how === 'none' ? null : channelsOf(filter.readers(allChannels[0]!)).length;
    console.log(`search, ${filter.how === 'none' ? 'baseline with no filter' : filter.name.replaceAll('_', ' ')}: p50 ${whole.p50} ms, p95 ${whole.p95} ms` +
      ` (Chroma ${chromaPart.p50} / ${chromaPart.p95} ms, query embedding ${embedPart.p50} / ${embedPart.p95} ms);` +
      ` recall@${topK} against exact search ${recall}`);
    return [filter.name, {
      channels, chunks_in_filter: channels === null ? null : Math.round((chunkCount * channels) / channelCount),
      p50_ms: whole.p50, p95_ms: whole.p95, max_ms: whole.max, chroma_p50_ms: chromaPart.p50, chroma_p95_ms: chromaPart.p95,
      embed_p50_ms: embedPart.p50, embed_p95_ms: embedPart.p95, recall,
    }];
  }));
  // The target: a caller who may read everything searches in under 50 ms at p95, within 1.5x of no filter at all.
  const everything = search[`all_${groups.length}_groups`]!;
  const p95Ratio = round(everything.p95_ms / search.no_filter!.p95_ms, 2);
  const target = { p95_ms_under: 50, p95_ratio_at_most: 1.5, p95_ms: everything.p95_ms, p95_ratio: p95Ratio, met: everything.p95_ms < 50 && p95Ratio <= 1.5 };
  console.log(`target: a caller who may read everything, p95 ${target.p95_ms} ms (< 50) and ${p95Ratio}x no filter (<= 1.5): ${target.met ? 'met' : 'MISSED'}`);
  const chromaBytes = chroma ? await diskBytes(path.join(dir, 'chroma')) : null;
  if (chromaBytes !== null) console.log(`Chroma folder: ${(chromaBytes / 1024 / 1024).toFixed(1)} MiB for ${chunkCount} chunks`);

  console.log(JSON.stringify({
    bench: 'ai', chunks: chunkCount, channels: channelCount, groups: groupCount, cpus: os.availableParallelism(),
    words_per_chunk: words, tokens_per_chunk: tokenStats,
    model: { name: model.name, stand_in: model.standIn, dtype, batch: batchSize, dimension: dim },
    chroma: { version: chromaVersion, local: Boolean(chroma), disk_bytes: chromaBytes },
    indexing: { embedding, chroma_upsert: upsert, both_chunks_per_s: together },
    indexer_lookup: { p50_ms: lookup.p50, p95_ms: lookup.p95, lookups: lookups.length },
    search: { queries: queryCount, warmup: WARMUP_QUERIES, top_k: topK, ...search },
    target,
  }));
}, cleanup);
