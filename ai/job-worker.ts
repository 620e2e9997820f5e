import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from '../core/index.ts';
import type { Indexer } from './indexer.ts';
import type { IndexJob } from './queue.ts';

export interface JobWorkerOptions {
  /** How often an idle worker looks for work. */
  pollMs: number;
  /** Attempts before a job is marked failed. */
  maxAttempts: number;
  /** A running job older than this is taken to belong to a dead worker and queued again. */
  staleAfterMs: number;
}

export interface JobWorker {
  /** Runs every job that is due now (for tests and shutdown); resolves when the queue has nothing due. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

interface JobRow {
  id: string;
  payload: IndexJob;
  attempts: number;
}

const KINDS = ['index_document', 'index_file'];

/**
 * Works the indexing queue. Jobs are claimed with FOR UPDATE SKIP LOCKED, so any number of workers (in the server
 * or `npm run ai:worker` processes) share it without taking the same job; a failed job is retried with backoff.
 */
export function startJobWorker(pool: pg.Pool, indexer: Indexer, options: JobWorkerOptions, log: Logger): JobWorker {
  const me = `${process.pid}-${randomUUID().slice(0, 8)}`;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  async function claim(): Promise<JobRow | undefined> {
    const { rows } = await pool.query<JobRow>(
      `UPDATE jobs SET status = 'running', locked_at = now(), locked_by = $1, attempts = attempts + 1
        WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= now() AND kind = ANY($2)
                     ORDER BY run_at FOR UPDATE SKIP LOCKED LIMIT 1)
        RETURNING id, payload, attempts`,
      [me, KINDS],
    );
    return rows[0];
  }

  async function run(job: JobRow): Promise<void> {
    const started = Date.now();
    try {
      // Jobs queued before chat segments named the document `channelId`.
      const payload = job.payload as IndexJob & { channelId?: string };
      const result = payload.kind === 'index_document'
        ? await indexer.indexDocument(payload.name ?? payload.channelId)
        : await indexer.indexFile(payload.fileId);
      await pool.query('DELETE FROM jobs WHERE id = $1', [job.id]);
      log.debug({ job: payload, ...result, ms: Date.now() - started }, 'indexed');
    } catch (err) {
      const failed = job.attempts >= options.maxAttempts;
      log.warn({ err, job: job.payload, attempts: job.attempts, failed }, 'indexing failed');
      // A newer queued job for the same source may exist (the unique index covers queued ones only): then this
      // one can simply go.
      await pool.query(
        `UPDATE jobs SET status = $2, last_error = $3, locked_at = NULL, locked_by = NULL,
                run_at = now() + make_interval(secs => $4)
          WHERE id = $1 AND NOT ($2 = 'queued' AND EXISTS (
            SELECT 1 FROM jobs o WHERE o.kind = jobs.kind AND o.dedupe_key = jobs.dedupe_key AND o.status = 'queued'))`,
        [job.id, failed ? 'failed' : 'queued', String((err as Error).message).slice(0, 500), 2 ** job.attempts],
      );
      await pool.query(`DELETE FROM jobs WHERE id = $1 AND status = 'running'`, [job.id]);
    }
  }

  async function drain(): Promise<void> {
    await pool.query(
      `UPDATE jobs SET status = 'queued', locked_at = NULL, locked_by = NULL
        WHERE status = 'running' AND locked_at < now() - make_interval(secs => $1)
          AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.kind = jobs.kind AND o.dedupe_key = jobs.dedupe_key AND o.status = 'queued')`,
      [options.staleAfterMs / 1000],
    );
    for (;;) {
      if (stopped) return;
      const job = await claim();
      if (!job) return;
      await run(job);
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = drain()
        .catch((err) => log.error({ err }, 'indexing queue unavailable'))
        .finally(schedule);
    }, options.pollMs);
  }
  schedule();

  return {
    drain: () => (running = running.then(drain)),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
