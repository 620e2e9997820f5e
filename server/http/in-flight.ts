export interface InFlight {
  /** Counts `work` as running until it settles. */
  track(work: Promise<unknown>): void;
  /** Resolves when nothing tracked is running any more, or after `timeoutMs`. */
  drained(timeoutMs: number): Promise<void>;
}

/**
 * Handlers still running, so shutdown can wait for them before it closes the database: a client that hangs up
 * closes its socket but does not stop its handler.
 */
export function trackInFlight(): InFlight {
  let running = 0;
  let waiters: (() => void)[] = [];
  const settle = () => {
    if (--running > 0) return;
    for (const wake of waiters) wake();
    waiters = [];
  };
  return {
    track(work) {
      running++;
      work.then(settle, settle);
    },
    drained(timeoutMs) {
      if (running === 0) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
