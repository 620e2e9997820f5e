// What the app keeps on the device for offline use: channel documents in IndexedDB (y-indexeddb, one database
// per document, named with PREFIX) and API answers in localStorage. Forgotten at sign-out.
export const DOC_DB_PREFIX = 'teamspace:';
const API_CACHE_PREFIX = 'teamspace.api:';
const PENDING_KEY = 'teamspace.pending';

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

/**
 * Documents changed on this device that the server may not have yet: kept across reloads so that, back online,
 * each is synced even if nobody opens it again.
 */
let pending: Set<string> | null = null;

/** Read from storage once; kept in memory after that, since every local change and acknowledgement asks. */
function pendingSet(): Set<string> {
  if (!pending) {
    try {
      pending = new Set(JSON.parse(localStorage.getItem(PENDING_KEY) ?? '[]') as string[]);
    } catch {
      pending = new Set();
    }
  }
  return pending;
}

export const pendingDocuments = (): string[] => [...pendingSet()];

export function markPending(name: string, isPending: boolean): void {
  const names = pendingSet();
  if (names.has(name) === isPending) return;
  if (isPending) names.add(name);
  else names.delete(name);
  try {
    localStorage.setItem(PENDING_KEY, JSON.stringify([...names]));
  } catch {
    // Without storage the document still syncs while it is open.
  }
}

export async function clearOfflineData(): Promise<void> {
  localStorage.removeItem(PENDING_KEY);
  pending = null;
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
