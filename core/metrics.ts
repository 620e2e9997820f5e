// Reading metric values on scrape, shared by every part that exposes some.
/**
 * A value read on scrape from somewhere that may be slow (the database, a mediasoup worker), within `ms`: past it
 * the scrape goes on without it (`undefined`: the metric keeps its last value) instead of waiting. A read still
 * running is joined, never started again, so slow scrapes do not pile up reads.
 */
export function readWithin<T>(ms: number, read: () => Promise<T>): () => Promise<T | undefined> {
  let running: Promise<T | undefined> | undefined;
  return () => {
    running ??= read()
      .catch(() => undefined)
      .finally(() => (running = undefined));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
    return Promise.race([running, late]).finally(() => clearTimeout(timer));
  };
}
