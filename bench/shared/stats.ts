// Small figures helpers shared by the benchmarks.

export const round = (n: number, digits = 2) => Number(n.toFixed(digits));

/** Nearest-rank percentile of an ascending list. */
export const percentile = (sorted: number[], q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;

export const median = (list: number[]) => percentile([...list].sort((a, b) => a - b), 0.5);
