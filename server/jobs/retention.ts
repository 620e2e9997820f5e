import { Counter, Gauge, type Registry } from 'prom-client';
import type pg from 'pg';
import { chat, type Collab } from '../../collab/index.ts';
import type { Logger } from '../logger.ts';
import { withLease } from './lease.ts';

export interface RetentionOptions {
  days: number;
  intervalSeconds: number;
  /** Messages removed per document transaction, so one huge channel never blocks its clients for long. */
  batch: number;
}

/**
 * Deletes chat messages older than the retention period from TEXT and DM documents, in batches, then compacts
 * each changed document so the deleted text is gone from storage too, not only hidden.
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
        let inDocument = 0;
        for (;;) {
          const n = await collab.change(id, (doc) => chat.removeMessagesBefore(doc, cutoff, options.batch));
          inDocument += n;
          if (n < options.batch) break;
        }
        if (inDocument) {
          await collab.compact(id);
          removed += inDocument;
          removedTotal.inc(inDocument);
        }
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
