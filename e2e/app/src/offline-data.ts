// What the app keeps on the device for offline use: channel documents in IndexedDB (y-indexeddb, one database
// per document, named with PREFIX) and API answers in localStorage. Forgotten at sign-out.
export const DOC_DB_PREFIX = 'teamspace:';
const API_CACHE_PREFIX = 'teamspace.api:';

export function cacheApiAnswer(path: string, value: unknown): void {
  try {
    localStorage.setItem(API_CACHE_PREFIX + path, JSON.stringify(value));
  } catch {
    // A full or unavailable storage only costs the offline copy.
  }
}

export function cachedApiAnswer<T>(path: string): T | undefined {
  const raw = localStorage.getItem(API_CACHE_PREFIX + path);
  return raw === null ? undefined : (JSON.parse(raw) as T);
}

export async function clearOfflineData(): Promise<void> {
  for (const key of Object.keys(localStorage)) if (key.startsWith(API_CACHE_PREFIX)) localStorage.removeItem(key);
  const databases = await indexedDB?.databases?.().catch(() => []) ?? [];
  await Promise.all(
    databases.flatMap(({ name }) =>
      name?.startsWith(DOC_DB_PREFIX)
        ? [new Promise<void>((resolve) => {
            const request = indexedDB.deleteDatabase(name);
            request.onsuccess = request.onerror = request.onblocked = () => resolve();
          })]
        : [],
    ),
  );
}

/** Whether this browser lets the app keep documents in IndexedDB (private modes and some policies refuse). */
export const indexedDbAvailable: Promise<boolean> = new Promise((resolve) => {
  try {
    const request = indexedDB.open(`${DOC_DB_PREFIX}probe`);
    request.onsuccess = () => {
      request.result.close();
      resolve(true);
    };
    request.onerror = () => resolve(false);
  } catch {
    resolve(false);
  }
});
