/**
 * Group commit: items submitted while a batch is being written go out together in the next one, so many
 * concurrent writers share one statement (and one commit) instead of paying one each. A lone item on an idle
 * writer goes out at once: batches form only from what piles up behind the one in flight, never by waiting.
 *
 * - Each item's promise resolves once the batch holding it has been written, and rejects if its own write failed:
 *   a failed batch is split in two and each half written again (halves in order), down to single items, so one
 *   bad item costs its neighbours a few extra statements, not their outcome. An item gets its own error object,
 *   untouched (a pg error keeps its `code`).
 * - Items of one key are written in the order submitted (batches run one at a time; a batch and its halves keep
 *   each key's items in order).
 * - Keys take turns within and across batches: a batch takes one item of each waiting key per round, and a key
 *   that had items taken goes behind those that did not, so a flooded key delays another by one batch at most.
 * - A batch holds at most `maxItems` items and about `maxBytes` bytes (always at least one item).
 */
export function groupCommit<T>(options: {
  write: (batch: T[]) => Promise<void>;
  bytes: (item: T) => number;
  maxItems: number;
  maxBytes: number;
}) {
  interface Pending {
    item: T;
    resolve: () => void;
    reject: (err: unknown) => void;
  }
  // Insertion order is the round: a key that had an item taken goes to the back.
  const waiting = new Map<string, Pending[]>();
  // Per key, the outcome of its latest item (settled, never rejecting): items of a key settle in order, so this
  // settles once all of them have.
  const latest = new Map<string, Promise<void>>();
  let writing = false;

  function take(): Pending[] {
    const batch: Pending[] = [];
    let bytes = 0;
    for (;;) {
      for (const key of [...waiting.keys()]) {
        const queue = waiting.get(key)!;
        const size = options.bytes(queue[0]!.item);
        if (batch.length && (batch.length >= options.maxItems || bytes + size > options.maxBytes)) return batch;
        batch.push(queue.shift()!);
        bytes += size;
        waiting.delete(key);
        if (queue.length) waiting.set(key, queue);
      }
      if (!waiting.size) return batch;
    }
  }

  async function settle(batch: Pending[]): Promise<void> {
    try {
      await options.write(batch.map((p) => p.item));
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      const half = Math.ceil(batch.length / 2);
      await settle(batch.slice(0, half));
      return settle(batch.slice(half));
    }
    for (const p of batch) p.resolve();
  }

  async function pump(): Promise<void> {
    writing = true;
    try {
      while (waiting.size) await settle(take());
    } finally {
      writing = false;
    }
  }

  return {
    submit(key: string, item: T): Promise<void> {
      const done = new Promise<void>((resolve, reject) => {
        const queue = waiting.get(key);
        if (queue) queue.push({ item, resolve, reject });
        else waiting.set(key, [{ item, resolve, reject }]);
      });
      const settled = done.then(
        () => {},
        () => {},
      );
      latest.set(key, settled);
      void settled.then(() => {
        if (latest.get(key) === settled) latest.delete(key);
      });
      if (!writing) void pump();
      return done;
    },
    /** Settles once every item of `key` submitted so far has been written or has failed. */
    settled(key: string): Promise<void> {
      return latest.get(key) ?? Promise.resolve();
    },
  };
}
