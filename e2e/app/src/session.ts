// Who is signed in: the token pair and the user, kept in localStorage so the app opens (offline too) after a
// reload. The access token is refreshed shortly before it expires; each refresh token works once (the server
// rotates them, and takes a spent one for a leak that ends the whole login), so one refresh at a time, shared by
// every caller and by every tab of this browser, which all hold the one session.
import * as idb from 'lib0/indexeddb';
import { clearOfflineData } from './offline-data.ts';

export interface User {
  id: string;
  username: string;
  email: string;
  display_name: string | null;
}

interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

interface Stored {
  accessToken: string;
  refreshToken: string;
  /** ms since the epoch */
  expiresAt: number;
  /** how long the server lets an access token live, ms */
  lifetimeMs: number;
  user: User;
}

const KEY = 'teamspace.session';
/** Refresh this long before expiry: 30 s, or a third of a token's life when the server makes them short. */
const refreshMargin = (stored: Stored) => Math.min(30_000, (stored.lifetimeMs ?? 0) / 3);

export class AuthError extends Error {}

let current: Stored | null = read();
const listeners = new Set<() => void>();

function read(): Stored | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Stored) : null;
  } catch {
    return null;
  }
}

/**
 * The pair as tabs hand it to one another under the session lock: IndexedDB, which every tab reads in order (a
 * write committed before the lock passes is seen by the next holder), where a tab's localStorage may not show
 * another tab's write yet when the lock reaches it. Without IndexedDB, localStorage alone.
 */
async function inPairStore<T>(work: (store: IDBObjectStore) => Promise<T>): Promise<T | undefined> {
  if (typeof indexedDB === 'undefined') return undefined;
  try {
    const db = await idb.openDB(KEY, (created) => idb.createStores(created, [['pair']]));
    try {
      const [store] = idb.transact(db, ['pair']);
      return await work(store!);
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

/** The session's latest pair, as the last holder of the lock left it. */
async function latestShared(): Promise<Stored | null> {
  const stored = (await inPairStore((store) => idb.rtop(store.get(KEY)))) as Stored | null | undefined;
  return stored === undefined ? read() : stored;
}

function write(next: Stored | null): Promise<unknown> {
  current = next;
  if (next) localStorage.setItem(KEY, JSON.stringify(next));
  else localStorage.removeItem(KEY);
  listeners.forEach((l) => l());
  return inPairStore((store) => idb.rtop(store.put(next, KEY)));
}

export const currentUser = (): User | null => current?.user ?? null;

// Another tab's refresh, password change, sign-in or sign-out is this tab's too. The user object is kept while the
// same person stays signed in, so views depending on it do not start over.
window.addEventListener('storage', (event) => {
  if (event.key !== KEY && event.key !== null) return;
  const next = read();
  current = next && current && next.user.id === current.user.id ? { ...next, user: current.user } : next;
  listeners.forEach((l) => l());
});

const LEASE_KEY = `${KEY}.lease`;
const LEASE_MS = 15_000;

/**
 * Runs `work` alone among this browser's tabs, for what changes the session's tokens: a refresh, a password change, a
 * sign-out. Web Locks where the browser has them; they need a secure context, so a server reached over plain http on
 * a LAN gets a lease in localStorage instead, which other tabs wait out (it expires, should a tab die holding it).
 */
async function underSessionLock<T>(work: () => Promise<T>): Promise<T> {
  if (navigator.locks) return navigator.locks.request(KEY, work);
  while (Number(localStorage.getItem(LEASE_KEY) ?? 0) > Date.now()) await new Promise((resolve) => setTimeout(resolve, 50));
  localStorage.setItem(LEASE_KEY, String(Date.now() + LEASE_MS));
  try {
    return await work();
  } finally {
    localStorage.removeItem(LEASE_KEY);
  }
}

/** The token epoch an access token was signed under (its `epoch` claim; none: 0). */
function epochOf(token: string): number {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { epoch?: unknown };
    return typeof payload.epoch === 'number' ? payload.epoch : 0;
  } catch {
    return 0;
  }
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function postJson<T>(path: string, body: unknown, headers: Record<string, string> = {}, init: RequestInit = {}): Promise<T> {
  // Bounded, since the session lock is held meanwhile: a hung request would stall every tab's refresh.
  const res = await fetch(path, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(LEASE_MS), ...init,
  });
  const json = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
    throw Object.assign(new AuthError(error?.message ?? `HTTP ${res.status}`), { code: error?.code, status: res.status, details: error?.details });
  }
  return json as T;
}

const lifetime = (tokens: Tokens) => ({ expiresAt: Date.now() + tokens.expires_in * 1000, lifetimeMs: tokens.expires_in * 1000 });

async function signIn(tokens: Tokens): Promise<void> {
  const user = await fetch('/api/auth/me', { headers: { authorization: `Bearer ${tokens.access_token}` } }).then((r) => r.json() as Promise<User>);
  write({ ...lifetime(tokens), accessToken: tokens.access_token, refreshToken: tokens.refresh_token, user });
}

export async function login(username: string, password: string): Promise<void> {
  await signIn(await postJson<Tokens>('/api/auth/token', { username, password, grant_type: 'password' }));
}

export async function register(fields: { username: string; email: string; password: string; display_name?: string }): Promise<void> {
  await postJson('/api/auth/register', fields);
  await login(fields.username, fields.password);
}

/**
 * Changes the password. The server ends every other login and this one's old tokens, and answers with a new pair for
 * this login; under the session lock, so a tab whose token is refused meanwhile waits for that pair instead of
 * refreshing with the old refresh token (which would end the login in every tab).
 */
export async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  const token = await accessToken();
  await underSessionLock(async () => {
    const tokens = await postJson<Tokens>('/api/auth/password', { current_password: currentPassword, new_password: newPassword }, {
      authorization: `Bearer ${token}`,
    });
    if (current) await write({ ...current, ...lifetime(tokens), accessToken: tokens.access_token, refreshToken: tokens.refresh_token });
  });
}

let refreshing: Promise<string> | null = null;

/** Makes `next` this tab's session, keeping the user object while the same person is signed in. */
function adopt(next: Stored): string {
  current = current && next.user.id === current.user.id ? { ...next, user: current.user } : next;
  return next.accessToken;
}

/**
 * A new access token. `endedEpoch`: the server said the session's tokens up to that epoch were ended (a password
 * change, a revocation), so a pair of that epoch is no answer.
 */
function refresh(endedEpoch?: number): Promise<string> {
  const had = current?.refreshToken;
  return underSessionLock(async () => {
    const latest = await latestShared();
    if (!latest) throw new AuthError('signed out');
    // Another tab refreshed, or the password was changed, while this one waited: that pair is the session's now.
    if (latest.refreshToken !== had && (endedEpoch === undefined || epochOf(latest.accessToken) > endedEpoch)) return adopt(latest);
    try {
      const tokens = await postJson<Tokens>('/api/auth/refresh', { refresh_token: latest.refreshToken });
      // Stored before the lock passes on, so the next holder reads this pair, not the one just spent.
      await write({ ...latest, user: current?.user ?? latest.user, ...lifetime(tokens), accessToken: tokens.access_token, refreshToken: tokens.refresh_token });
      return tokens.access_token;
    } catch (error) {
      // A pair written meanwhile by a tab that did not wait (no Web Locks, and the lease raced) is the answer.
      const now = await latestShared();
      if (now && now.refreshToken !== latest.refreshToken) return adopt(now);
      // The server refusing the refresh token (spent, revoked, expired) ends the session; a network failure, a
      // timeout or a server error does not.
      if (error instanceof AuthError && (error as AuthError & { status?: number }).status === 401) await endSession();
      throw error;
    }
  });
}

/**
 * A usable access token: the current one, or a fresh one when it is about to expire, when `force`d, or when the
 * server refused `refused` and it is still the current one (once replaced, by a refresh or a password change, the
 * replacement is the answer). `revoked`: the server refused it as `session_revoked`, so every token of its epoch is
 * dead, the current one too if a plain refresh made it.
 */
export async function accessToken(options: { force?: boolean; refused?: string; revoked?: boolean } = {}): Promise<string> {
  const stored = current;
  if (!stored) throw new AuthError('signed out');
  const endedEpoch = options.revoked && options.refused ? epochOf(options.refused) : undefined;
  const refusedNow = options.refused === stored.accessToken || (endedEpoch !== undefined && epochOf(stored.accessToken) <= endedEpoch);
  if (!options.force && !refusedNow && stored.expiresAt - Date.now() > refreshMargin(stored)) return stored.accessToken;
  refreshing ??= refresh(endedEpoch).finally(() => (refreshing = null));
  return refreshing;
}

async function endSession(): Promise<void> {
  await write(null);
  await clearOfflineData();
}

/** Forgets the session and what was cached on this device, without asking the server (the account is gone). */
export const forgetSession = endSession;

/** Signs out here and on the server (that login's refresh tokens are revoked), and forgets what was cached. */
export async function logout(): Promise<void> {
  const stored = current;
  // Forgotten here first, so the device is signed out at once (a page opened right after finds it so); then the
  // server revokes the login (any token of it ends it all, so one another tab has rotated since still does), in a
  // request that outlives the page. A tab's refresh that lands meanwhile fails at the next one.
  const forgotten = endSession();
  if (stored) await postJson('/api/auth/logout', { refresh_token: stored.refreshToken }, {}, { keepalive: true }).catch(() => undefined);
  await forgotten;
}
