import { Counter, Histogram, type Registry } from 'prom-client';
import type { DocumentStore } from './document-store.ts';

/**
 * The document store with its metrics: how long an append waits until its row has committed (its turn in the group
 * commit included: what an acknowledgement waits for), how long loads and snapshot stores (compaction) take, and
 * the bytes appended to the logs. Measured around the store's calls, so the store itself stays about storage.
 */
export function measuredStore(store: DocumentStore, registry: Registry): DocumentStore {
  const registers = [registry];
  const appendSeconds = new Histogram({
    name: 'collab_append_seconds', help: 'Time from an append to its commit in the document log (group commit included)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers,
  });
  const appendedBytes = new Counter({
    name: 'collab_log_appended_bytes_total', help: 'Bytes of updates appended to document logs (before encryption)', registers,
  });
  const loadSeconds = new Histogram({
    name: 'collab_load_seconds', help: "Time to load a document's snapshot and log (its turn at storage included)",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
  });
  const storeSeconds = new Histogram({
    name: 'collab_snapshot_store_seconds', help: "Time to fold a document's log into its snapshot and store it (compaction)",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers,
  });

  /** Times `work`, counting only what succeeded: a failed call is measured by its retry. */
  async function timed<T>(histogram: Histogram, work: Promise<T>): Promise<T> {
    const stop = histogram.startTimer();
    const result = await work;
    stop();
    return result;
  }

  return {
    ...store,
    async append(name, update, write) {
      await timed(appendSeconds, store.append(name, update, write));
      appendedBytes.inc(update.length);
    },
    load: (name) => timed(loadSeconds, store.load(name)),
    compact: (name) => timed(storeSeconds, store.compact(name)),
  };
}
