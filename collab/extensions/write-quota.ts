/**
 * Bytes per minute per key (a user, a group), as a bucket refilled continuously that may go into debt: an update is
 * taken whole while the bucket is not empty, and the next one waits until the debt is paid back. So any single
 * update eventually passes (a client that was refused resends everything unsent as one update), and over time a
 * key writes at most its rate plus one update.
 */
export class WriteQuota {
  private readonly perMinute: number;
  private readonly buckets = new Map<string, { bytes: number; at: number }>();
  private charges = 0;

  constructor(perMinute: number) {
    this.perMinute = perMinute;
  }

  /** Whole seconds until `key` may write again; 0 when it may write now. */
  wait(key: string, now = Date.now()): number {
    const bytes = this.refill(key, now);
    return bytes > 0 ? 0 : Math.max(1, Math.ceil((-bytes * 60) / this.perMinute));
  }

  charge(key: string, bytes: number, now = Date.now()): void {
    this.buckets.set(key, { bytes: this.refill(key, now) - bytes, at: now });
    // Full buckets hold nothing worth keeping: drop them now and then, so the map stays as small as the writers.
    if (++this.charges % 1000 === 0) {
      for (const k of this.buckets.keys()) if (this.refill(k, now) >= this.perMinute) this.buckets.delete(k);
    }
  }

  private refill(key: string, now: number): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return this.perMinute;
    return Math.min(this.perMinute, bucket.bytes + ((now - bucket.at) / 60_000) * this.perMinute);
  }
}
