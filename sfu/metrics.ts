import { Counter, Gauge, type Registry } from 'prom-client';
import { readWithin } from '../core/index.ts';
import type { Worker } from './mediasoup.ts';
import type { Room } from './room.ts';
import type { WorkerPool } from './worker-pool.ts';

/** How long a scrape waits for the workers' resource usage (a busy or dying worker answers late or never). */
const USAGE_TIMEOUT_MS = 1000;

/** CPU seconds (user and system) each live worker has used, by pid; a worker that does not answer is left out. */
async function cpuSeconds(workers: readonly Worker[]): Promise<Map<number, number>> {
  const usage = await Promise.all(workers.map(async (worker) => {
    try {
      const { ru_utime, ru_stime } = await worker.getResourceUsage();
      return [worker.pid, (ru_utime + ru_stime) / 1000] as const;
    } catch {
      return undefined;
    }
  }));
  return new Map(usage.filter((entry) => entry !== undefined));
}

/**
 * The calls' metrics, all read on scrape from what is there: workers, rooms, peers, producers and consumers on this
 * instance, worker deaths, and each worker's CPU time (asked of the workers, within a second).
 */
/** `rooms`: the open calls by channel id. */
export function registerSfuMetrics(registry: Registry, pool: WorkerPool | undefined, rooms: ReadonlyMap<string, Room>): void {
  const registers = [registry];
  const peers = function* () {
    for (const room of rooms.values()) yield* room.peers.values();
  };
  const sum = <T>(items: Iterable<T>, count: (item: T) => number) => [...items].reduce((n, item) => n + count(item), 0);
  new Gauge({
    name: 'sfu_workers', help: 'Running mediasoup workers', registers,
    collect() {
      this.set(pool?.size ?? 0);
    },
  });
  new Gauge({
    name: 'sfu_rooms', help: 'Active calls on this instance', registers,
    collect() {
      this.set(rooms.size);
    },
  });
  new Gauge({
    name: 'sfu_peers', help: 'Participants in calls on this instance', registers,
    collect() {
      this.set(sum(peers(), () => 1));
    },
  });
  new Gauge({
    name: 'sfu_producers', help: 'Streams sent into calls on this instance', registers,
    collect() {
      this.set(sum(peers(), (peer) => peer.producers.size));
    },
  });
  new Gauge({
    name: 'sfu_consumers', help: 'Streams received from calls on this instance', registers,
    collect() {
      this.set(sum(peers(), (peer) => peer.consumers.size));
    },
  });
  new Counter({
    name: 'sfu_worker_deaths_total', help: 'mediasoup workers that died and were replaced', registers,
    collect() {
      this.reset();
      this.inc(pool?.deaths() ?? 0);
    },
  });
  const usage = readWithin(USAGE_TIMEOUT_MS, () => cpuSeconds(pool?.workers() ?? []));
  new Counter({
    name: 'sfu_worker_cpu_seconds_total', help: 'CPU time (user and system) used by each mediasoup worker, by pid',
    labelNames: ['pid'], registers,
    async collect() {
      const seconds = await usage();
      if (!seconds) return;
      // Only live workers: a replaced worker's pid goes, and its successor starts a new series.
      this.reset();
      for (const [pid, used] of seconds) this.inc({ pid: String(pid) }, used);
    },
  });
}
