import { Counter, Gauge, type Registry } from 'prom-client';
import type pg from 'pg';
import { chat, segmentName, type Collab } from '../../collab/index.ts';
import type { Logger } from '../../core/logger.ts';
import { withLease } from './lease.ts';

export interface RetentionOptions {
  days: number;
  intervalSeconds: number;
  /** Messages removed per document transaction, so one huge channel never blocks its clients for long. */
  batch: number;
  /** Told of each history segment dropped whole, so what indexed it (AI search) forgets it too. */
  forget?: (documentName: string) => Promise<void>;
}

/**
 * Deletes chat messages older than the retention period (by the server's first-stored time). History segments
 * received wholly before the cutoff are dropped whole (their rows deleted); the one segment that straddles it and the
 * live part lose their expired messages in batches and are compacted, so the deleted text is gone from storage
 * too, not only hidden.
 */
export function startRetention(
  pool: pg.Pool,
  collab: Collab,
  options: RetentionOptions,
  registry: Registry,
  log: Logger,
): { runOnce(): Promise<number>; stop(): Promise<void> } {
  const removedTotal = new Counter({
    name: 'retention_messages_deleted_total', help: 'Chat messages deleted by retention', registers: [registry],
  });
  const failures = new Counter({
    name: 'retention_channel_failures_total', help: 'Channels retention could not process', registers: [registry],
  });
  const lastRun = new Gauge({
    name: 'retention_last_run_timestamp_seconds', help: 'When the last retention pass finished', registers: [registry],
  });

  // One instance at a time; a pass over many channels may take long, so the lease outlasts the interval.
  const pass = async () =>
    (await withLease(pool, 'retention', Math.max(600, options.intervalSeconds * 2), removeOld)) ?? 0;

  async function removeOld(): Promise<number> {
    const started = Date.now();
    const cutoff = new Date(started - options.days * 86_400_000);
    const { rows } = await pool.query<{ id: string }>(`SELECT id FROM channels WHERE type IN ('TEXT', 'DM')`);
    let removed = 0;
    let failed = 0;
    for (const { id } of rows) {
      // One channel that cannot be loaded (e.g. its key is missing) must not stop retention for the others.
      try {
        const n = await expire(id, cutoff);
        removed += n;
        removedTotal.inc(n);
      } catch (err) {
        failed++;
        failures.inc();
        log.error({ err, channel_id: id }, 'retention failed for a channel');
      }
    }
    lastRun.setToCurrentTime();
    log.info({ removed, failed, channels: rows.length, cutoff, ms: Date.now() - started }, 'retention pass done');
    return removed;
  }

  async function expire(channelId: string, cutoff: Date): Promise<number> {
    let removed = 0;
    const { rows: expired } = await pool.query<{ part: number }>(
      'SELECT part FROM chat_segments WHERE channel_id = $1 AND last_received_at < $2 ORDER BY part',
      [channelId, cutoff],
    );
    for (const { part } of expired) {
      removed += await collab.history.dropSegment(channelId, part);
      await options.forget?.(segmentName(channelId, part));
    }
    const { rows: straddling } = await pool.query<{ part: number }>(
      'SELECT part FROM chat_segments WHERE channel_id = $1 AND first_received_at < $2',
      [channelId, cutoff],
    );
    for (const { part } of straddling) {
      const n = await trim(segmentName(channelId, part), cutoff);
      await pool.query(
        `WITH gone AS (
           DELETE FROM chat_messages WHERE channel_id = $1 AND part = $2 AND received_at < $3 RETURNING 1
         )
         UPDATE chat_segments SET message_count = message_count - (SELECT count(*) FROM gone),
           first_received_at = $3
         WHERE channel_id = $1 AND part = $2`,
        [channelId, part, cutoff],
      );
      removed += n;
    }
    removed += await trim(channelId, cutoff);
    // Earlier generations of the live part, kept for the clients that held them, hold expired text too.
    await collab.history.forgetExpiredGenerations(channelId, cutoff);
    return removed;
  }

  /** Removes a part's expired messages in batches, then compacts it if any were. */
  async function trim(name: string, cutoff: Date): Promise<number> {
    let removed = 0;
    for (;;) {
      const n = await collab.change(name, (doc) => chat.removeMessagesBefore(doc, cutoff, options.batch));
      removed += n;
      if (n < options.batch) break;
    }
    if (removed) await collab.compact(name);
    return removed;
  }

  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(pass).catch((err) => log.error({ err }, 'retention pass failed'));
  }, options.intervalSeconds * 1000);
  timer.unref();

  return {
    runOnce: pass,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
