import type { Queryable } from '../core/index.ts';

/**
 * What the indexing queue holds: a document to (re)index, by name (a channel id for a channel's content or a chat's
 * live part, `<channel id>/history/<n>` for a chat's segment), or an uploaded file.
 */
export type IndexJob = { kind: 'index_document'; name: string } | { kind: 'index_file'; fileId: string };

function key(job: IndexJob): string {
  return job.kind === 'index_document' ? job.name : job.fileId;
}

/**
 * Queues a job unless the same one is already waiting (one queued job per document or file: indexing reads the
 * latest state, so later requests fold into the waiting one). `delayMs` debounces bursts of edits.
 */
export async function enqueue(db: Queryable, job: IndexJob, delayMs = 0): Promise<void> {
  await db.query(
    `INSERT INTO jobs (kind, dedupe_key, payload, run_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4::double precision / 1000))
     ON CONFLICT (kind, dedupe_key) WHERE status = 'queued' AND dedupe_key IS NOT NULL DO NOTHING`,
    [job.kind, key(job), JSON.stringify(job), delayMs],
  );
}
