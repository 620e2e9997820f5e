import path from 'node:path';
import type pg from 'pg';
import { Registry } from 'prom-client';
import { segmentName, type Keyring } from '../collab/index.ts';
import type { Logger } from '../core/index.ts';
import { createAssistant, type Assistant } from './assistant.ts';
import { createEmbedder, type Embedder } from './embedder.ts';
import { createIndexer, type FileText, type Indexer } from './indexer.ts';
import { startJobWorker, type JobWorker } from './job-worker.ts';
import { createLlm, type Llm } from './llm.ts';
import { startLocalChroma, type LocalChroma } from './local-chroma.ts';
import { aiMetrics } from './metrics.ts';
import { enqueue } from './queue.ts';
import { openVectorStore, type VectorStore } from './vector-store.ts';

export interface AiOptions {
  pool: pg.Pool;
  /** Document storage's own pool (`Database.storage`): the indexer reads whole documents through it. */
  storage: pg.Pool;
  keyring: Keyring;
  log: Logger;
  dataDir: string;
  /** AI_ENABLED: false starts nothing (search answers 503). */
  enabled: boolean;
  chromaUrl?: string;
  modelsDir: string;
  embeddingModel: string;
  embeddingDtype: 'q8' | 'fp32';
  embeddingBatch: number;
  ollamaHost: string;
  ollamaModel: string;
  numCtx: number;
  /** Work the indexing queue in this process. */
  worker: boolean;
  indexDebounceMs: number;
  sweepIntervalSeconds: number;
  readFileText(fileId: string): Promise<FileText | undefined>;
  /** Where the AI metrics are registered (none: `npm run ai:worker` without AI_WORKER_METRICS_PORT). */
  registry?: Registry;
}

export interface AiHealth {
  status: 'ok' | 'degraded' | 'off';
  ollama: { reachable: boolean; model: string; model_present: boolean; error?: string };
  chroma: { reachable: boolean; url: string | null; collection: string | null; chunks: number | null };
  embedder: { model: string; loaded: boolean; dimension: number | null; error?: string };
  queue: { queued: number; running: number; failed: number };
}

export interface Ai {
  /** Search and answers need the embedder and Chroma; without them this says why. */
  readonly unavailable: string | undefined;
  readonly assistant: Assistant | undefined;
  readonly llm: Llm;
  readonly indexer: Indexer | undefined;
  /**
   * Queues a stored document for indexing, by name: a channel id, or a chat segment's `<channel id>/history/<n>`
   * (debounced by the queue's one-waiting-job rule).
   */
  documentStored(name: string): void;
  /**
   * Queues a document whose content is gone (a chat segment retention dropped, with its `chat_segments` row) at
   * once: the indexer finds it gone and removes its chunks. Resolves once the job is queued.
   */
  forgetDocument(name: string): Promise<void>;
  /**
   * Reconciles Chroma with the database; says how much it queued and dropped: queues every channel's content,
   * every listed chat segment and every file that has no chunks yet (a sealed segment changes only through stores,
   * which queue it; a file only at upload), and drops the chunks of channels and segments that are gone. Run on a
   * timer, and from the admin console (after a restore without the AI index).
   */
  sweep(): Promise<{ queued: number; dropped: number }>;
  /** Runs every due indexing job now (tests; `npm run ai:worker` runs the same loop). */
  drain(): Promise<void>;
  health(): Promise<AiHealth>;
  close(): Promise<void>;
}

/**
 * The AI part: the embedder (a worker thread), Chroma (CHROMA_URL, or a local one under DATA_DIR), the indexing
 * queue's worker, and the assistant (search, answers, summaries) on Ollama. A part that cannot start turns AI
 * off with one clear log line; the rest of the server runs.
 */
export async function startAi(options: AiOptions): Promise<Ai> {
  const { log, pool } = options;
  // Without a registry to serve them from, the metrics are kept where no one reads them.
  const metrics = aiMetrics(options.registry ?? new Registry(), pool);
  const llm = createLlm({
    host: options.ollamaHost, model: options.ollamaModel, numCtx: options.numCtx, onAnswered: metrics.answered,
  });
  let embedder: Embedder | undefined;
  let local: LocalChroma | undefined;
  let vectors: VectorStore | undefined;
  let unavailable: string | undefined;
  let dimension: number | null = null;
  let chromaUrl: string | null = options.chromaUrl ?? null;
  try {
    if (!options.enabled) throw new Error('AI_ENABLED=false');
    embedder = createEmbedder({
      modelsDir: options.modelsDir, model: options.embeddingModel, dtype: options.embeddingDtype, batchSize: options.embeddingBatch,
      onBatch: metrics.embedded,
    });
    dimension = await embedder.dimension().catch((err: Error) => {
      throw new Error(
        `the embedding model ${options.embeddingModel} is not in ${options.modelsDir} and could not be loaded or downloaded (${err.message})`,
      );
    });
    if (!chromaUrl) {
      local = await startLocalChroma(path.join(options.dataDir, 'chroma'), log);
      chromaUrl = local.url;
    }
    vectors = metrics.timedVectors(await openVectorStore(chromaUrl, options.embeddingModel, dimension));
  } catch (err) {
    unavailable = `AI search is off: ${(err as Error).message}`;
    log.warn({ reason: unavailable }, 'AI is off');
    await embedder?.close();
    await local?.stop();
    embedder = undefined;
  }

  const indexer = embedder && vectors
    ? createIndexer({ pool, storage: options.storage, keyring: options.keyring, vectors, embedder, readFileText: options.readFileText, log })
    : undefined;
  const assistant = embedder && vectors
    ? createAssistant({ pool, storage: options.storage, keyring: options.keyring, vectors, embedder, llm })
    : undefined;
  const worker: JobWorker | undefined = indexer && options.worker
    ? startJobWorker(pool, indexer, { pollMs: 500, maxAttempts: 5, staleAfterMs: 10 * 60_000 }, log)
    : undefined;

  async function sweep(): Promise<{ queued: number; dropped: number }> {
    const { rows } = await pool.query<{ id: string }>(`SELECT id FROM channels WHERE type <> 'VOICE'`);
    for (const { id } of rows) await enqueue(pool, { kind: 'index_document', name: id });
    let dropped = 0;
    let queued = rows.length;
    if (!vectors) return { queued, dropped };
    const { rows: segments } = await pool.query<{ channel_id: string; part: number }>('SELECT channel_id, part FROM chat_segments');
    const listed = new Map<string, Set<number>>();
    for (const s of segments) listed.set(s.channel_id, (listed.get(s.channel_id) ?? new Set()).add(s.part));
    const live = new Set(rows.map((r) => r.id));
    const { parts: indexed, files } = await vectors.indexed();
    for (const [id, parts] of indexed) {
      if (!live.has(id)) {
        await vectors.deleteWhere({ channel_id: id });
        dropped++;
        continue;
      }
      for (const part of parts) {
        if (part < 0 || listed.get(id)?.has(part)) continue;
        await vectors.deleteWhere({ $and: [{ channel_id: id }, { part }] });
        dropped++;
      }
    }
    for (const s of segments) {
      if (indexed.get(s.channel_id)?.has(s.part)) continue;
      await enqueue(pool, { kind: 'index_document', name: segmentName(s.channel_id, s.part) });
      queued++;
    }
    // Files are indexed once, at upload: one with no chunks (an index lost, or restored without Chroma) is again.
    const { rows: stored } = await pool.query<{ id: string }>('SELECT id FROM files');
    for (const { id } of stored) {
      if (files.has(id)) continue;
      await enqueue(pool, { kind: 'index_file', fileId: id });
      queued++;
    }
    return { queued, dropped };
  }
  const sweepTimer = worker
    ? setInterval(() => sweep().catch((err) => log.error({ err }, 'AI sweep failed')), options.sweepIntervalSeconds * 1000)
    : undefined;
  sweepTimer?.unref();

  return {
    unavailable,
    assistant,
    llm,
    indexer,
    documentStored(name) {
      enqueue(pool, { kind: 'index_document', name }, options.indexDebounceMs).catch((err) =>
        log.warn({ err, document: name }, 'could not queue a document for indexing'),
      );
    },
    forgetDocument: (name) => enqueue(pool, { kind: 'index_document', name }),
    sweep,
    drain: async () => worker?.drain(),
    async health() {
      const [ollama, queue, chromaUp] = await Promise.all([
        llm.health(),
        pool.query<{ queued: number; running: number; failed: number }>(
          `SELECT count(*) FILTER (WHERE status = 'queued')::int AS queued, count(*) FILTER (WHERE status = 'running')::int AS running,
                  count(*) FILTER (WHERE status = 'failed')::int AS failed FROM jobs WHERE kind IN ('index_document', 'index_file')`,
        ),
        vectors ? vectors.heartbeat() : Promise.resolve(false),
      ]);
      const chunks = chromaUp && vectors ? await vectors.count() : null;
      const ok = ollama.reachable && ollama.model_present && chromaUp && Boolean(embedder?.loaded);
      return {
        status: unavailable ? 'off' : ok ? 'ok' : 'degraded',
        ollama: { ...ollama, model: llm.model },
        chroma: { reachable: chromaUp, url: chromaUrl, collection: vectors?.collectionName ?? null, chunks },
        embedder: {
          model: options.embeddingModel, loaded: Boolean(embedder?.loaded), dimension, ...(unavailable ? { error: unavailable } : {}),
        },
        queue: queue.rows[0]!,
      };
    },
    async close() {
      clearInterval(sweepTimer);
      await worker?.stop();
      await embedder?.close();
      await local?.stop();
    },
  };
}
