import type pg from 'pg';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { readWithin } from '../core/index.ts';
import type { VectorStore } from './vector-store.ts';

/** The indexing queue's kinds and the states a job waits or stays in (a done job is deleted). */
const KINDS = ['index_document', 'index_file'];
const STATUSES = ['queued', 'running', 'failed'];
/** How long a scrape waits for the queue's figures from the database. */
const QUEUE_TIMEOUT_MS = 2000;

export interface AiMetrics {
  /** Told after each embedding batch (one inference call). */
  embedded(texts: number, seconds: number): void;
  /** Told after each answer streamed from Ollama: until its first piece, and in all. */
  answered(firstPieceSeconds: number | undefined, seconds: number): void;
  /** The vector store with each operation on Chroma timed. */
  timedVectors(store: VectorStore): VectorStore;
}

/**
 * The AI part's metrics: the indexing queue (jobs by kind and state, and how long the oldest queued one has waited),
 * read on scrape with one query; embeddings (texts and batch time) and the latency of Chroma and Ollama, counted
 * as they happen in this process (with AI_WORKER=none the indexing's embeddings are counted by `npm run ai:worker`,
 * which serves them on AI_WORKER_METRICS_PORT).
 */
export function aiMetrics(registry: Registry, pool: pg.Pool): AiMetrics {
  const registers = [registry];
  // One query per scrape for both gauges: the registry collects them concurrently, so the second joins the first's read.
  const queue = readWithin(QUEUE_TIMEOUT_MS, async () => {
    const { rows } = await pool.query<{ kind: string; status: string; jobs: number; oldest: number }>(
      `SELECT kind, status, count(*)::int AS jobs, extract(epoch FROM now() - min(created_at))::float8 AS oldest
         FROM jobs WHERE kind = ANY($1) AND status = ANY($2) GROUP BY kind, status`,
      [KINDS, STATUSES],
    );
    return rows;
  });
  new Gauge({
    name: 'ai_queue_jobs', help: 'Indexing jobs by kind and status (queued, running, failed)', labelNames: ['kind', 'status'],
    registers,
    async collect() {
      const rows = await queue();
      if (!rows) return;
      for (const kind of KINDS) for (const status of STATUSES) this.set({ kind, status }, 0);
      for (const row of rows) this.set({ kind: row.kind, status: row.status }, row.jobs);
    },
  });
  new Gauge({
    name: 'ai_index_lag_seconds', help: 'Age of the oldest queued indexing job (0: none queued)', registers,
    async collect() {
      const rows = await queue();
      if (rows) this.set(Math.max(0, ...rows.filter((row) => row.status === 'queued').map((row) => row.oldest)));
    },
  });

  const texts = new Counter({ name: 'ai_embedded_texts_total', help: 'Texts embedded (chunks and search queries)', registers });
  const batchSeconds = new Histogram({
    name: 'ai_embedding_batch_seconds', help: 'Time of one embedding batch (the first one includes loading the model)',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers,
  });
  const chromaSeconds = new Histogram({
    name: 'ai_chroma_operation_seconds', help: 'Time of an operation on Chroma, by operation (a batched one in all)',
    labelNames: ['operation'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
  });
  const llmBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
  const firstPiece = new Histogram({
    name: 'ai_ollama_first_token_seconds', help: "Time until Ollama streams an answer's first piece", buckets: llmBuckets,
    registers,
  });
  const answerSeconds = new Histogram({
    name: 'ai_ollama_answer_seconds', help: 'Time Ollama takes to stream a whole answer', buckets: llmBuckets, registers,
  });

  return {
    embedded(count, seconds) {
      texts.inc(count);
      batchSeconds.observe(seconds);
    },
    answered(untilFirst, seconds) {
      if (untilFirst !== undefined) firstPiece.observe(untilFirst);
      answerSeconds.observe(seconds);
    },
    timedVectors(store) {
      const timed = <A extends unknown[], R>(operation: string, call: (...args: A) => Promise<R>) =>
        async (...args: A): Promise<R> => {
          const stop = chromaSeconds.startTimer({ operation });
          try {
            return await call(...args);
          } finally {
            stop();
          }
        };
      return {
        collectionName: store.collectionName,
        idsOf: timed('get', store.idsOf),
        upsert: timed('upsert', store.upsert),
        delete: timed('delete', store.delete),
        deleteWhere: timed('delete', store.deleteWhere),
        query: timed('query', store.query),
        indexed: timed('get', store.indexed),
        heartbeat: timed('heartbeat', store.heartbeat),
        count: timed('count', store.count),
      };
    },
  };
}
