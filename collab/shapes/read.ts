import * as Y from 'yjs';

// Tolerant field readers: a buggy or hostile client may write anything into a shared map, so every reader
// checks the type and treats a wrong one as missing.

export const str = (m: Y.Map<unknown>, key: string): string | undefined => {
  const v = m.get(key);
  return typeof v === 'string' ? v : v instanceof Y.Text ? v.toString() : undefined;
};

export const bool = (m: Y.Map<unknown>, key: string): boolean | undefined => {
  const v = m.get(key);
  return typeof v === 'boolean' ? v : undefined;
};

/** The entries of a map of maps, skipping entries that are not maps. */
export function mapEntries(map: Y.Map<unknown>): [string, Y.Map<unknown>][] {
  const out: [string, Y.Map<unknown>][] = [];
  map.forEach((value, key) => {
    if (value instanceof Y.Map) out.push([key, value as Y.Map<unknown>]);
  });
  return out;
}

/** Sorts by a fractional order key, then id, so equal keys (from concurrent inserts) still order the same everywhere. */
export function byOrder<T extends { id: string; order: string }>(items: T[]): T[] {
  return items.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
