import { EventEmitter, once } from 'node:events';
import type { Logger } from '../core/index.ts';
import { createWorker, type Worker, type WorkerOptions } from './mediasoup.ts';

export interface WorkerPool {
  /**
   * The live worker with the least load, as `loadOf` counts it; while none is live (all died and are being
   * replaced), waits up to `waitMs` for one.
   */
  leastLoaded(loadOf: (worker: Worker) => number, waitMs?: number): Promise<Worker>;
  readonly size: number;
  workers(): readonly Worker[];
  /** Called with a worker that died (after its replacement was asked for). */
  onDeath(listener: (worker: Worker) => void): void;
  deaths(): number;
  close(): void;
}

const RESTART_DELAYS_MS = [0, 1000, 5000, 15000];

/**
 * `count` mediasoup workers, each watched: one that dies is replaced (after a growing delay when deaths repeat),
 * and listeners are told, so the rooms it held can send their peers back to join again.
 */
export async function startWorkerPool(count: number, options: WorkerOptions, log: Logger): Promise<WorkerPool> {
  const live: Worker[] = [];
  const events = new EventEmitter<{ death: [Worker]; started: [Worker] }>();
  let closed = false;
  let deaths = 0;
  let recentDeaths = 0;

  async function start(slot: number): Promise<void> {
    const worker = await createWorker(options);
    if (closed) {
      worker.close();
      return;
    }
    live.push(worker);
    events.emit('started', worker);
    worker.on('died', (err: Error) => {
      deaths += 1;
      live.splice(live.indexOf(worker), 1);
      const delay = RESTART_DELAYS_MS[Math.min(recentDeaths++, RESTART_DELAYS_MS.length - 1)]!;
      setTimeout(() => (recentDeaths = Math.max(0, recentDeaths - 1)), 60_000).unref();
      log.error({ err, pid: worker.pid, slot, restart_in_ms: delay }, 'mediasoup worker died: replacing it');
      events.emit('death', worker);
      setTimeout(() => {
        start(slot).catch((startErr) => log.error({ err: startErr, slot }, 'mediasoup worker could not be replaced'));
      }, delay).unref();
    });
  }

  await Promise.all(Array.from({ length: count }, (_, slot) => start(slot)));
  log.info({ workers: count, pids: live.map((w) => w.pid) }, 'mediasoup workers started');

  return {
    async leastLoaded(loadOf, waitMs = 20_000) {
      if (!live.length) {
        const signal = AbortSignal.timeout(waitMs);
        await once(events, 'started', { signal }).catch(() => {
          throw new Error(`no mediasoup worker came up within ${waitMs} ms`);
        });
      }
      return live.reduce((best, w) => (loadOf(w) < loadOf(best) ? w : best));
    },
    get size() {
      return live.length;
    },
    workers: () => [...live],
    onDeath(listener) {
      events.on('death', listener);
    },
    deaths: () => deaths,
    close() {
      closed = true;
      for (const worker of live.splice(0)) worker.close();
    },
  };
}
