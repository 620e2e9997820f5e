/** A rate limit: `perSecond` sustained, bursts of twice that. */
export class TokenBucket {
  private tokens: number;
  private refilledAt = Date.now();
  private readonly perSecond: number;

  constructor(perSecond: number) {
    this.perSecond = perSecond;
    this.tokens = perSecond * 2;
  }

  /** Whether a token is left now (without taking it). */
  get ready(): boolean {
    this.refill();
    return this.tokens >= 1;
  }

  /** Takes one token; false when none is left. */
  take(): boolean {
    if (!this.ready) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.perSecond * 2, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
  }
}
