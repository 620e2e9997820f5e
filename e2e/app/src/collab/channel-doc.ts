// One channel document as the app holds it: a Yjs copy kept in IndexedDB (so it opens offline) and synced with
// the server over /collab. It says plainly where it stands (loaded, synced, unsynced changes, refusals), so views
// stay read-only until there is something real to edit and the status bar can say "saved" truthfully. It also
// follows the chat history protocol (README "Live documents"): after `history rolled over` it reconnects with the
// same copy so the server can take what only this copy holds; after `stale` it drops the copy and starts afresh.
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { IndexeddbPersistence } from 'y-indexeddb';
import * as Y from 'yjs';
import { DOC_DB_PREFIX, markPending } from '../offline-data.ts';
import { accessToken, currentUser } from '../session.ts';

export interface Refusal {
  rule: string;
  reason: string;
  count: number;
  at: number;
}

export interface ChannelDocState {
  connection: 'connecting' | 'connected' | 'disconnected';
  /** The server's copy has been merged in since the last (re)connection. */
  synced: boolean;
  /**
   * The device has a copy: read from IndexedDB (false while there is none), or the server's once synced (kept in
   * IndexedDB, or in memory without it), so a view stays usable when the connection drops.
   */
  loadedLocally: boolean;
  /** IndexedDB could not be opened: the document lives only as long as the page. */
  storageUnavailable: boolean;
  /** Local changes the server has not acknowledged (stored) yet. */
  unsynced: number;
  /** The server lets this user read only (viewers, and everyone in an archived channel). */
  readOnly: boolean;
  /** The server said, while connected, that the channel was archived (true) or unarchived (false); null: not told. */
  archived: boolean | null;
  /** Why the server closed or refused the connection, when it did (e.g. access revoked, a quota). */
  closedBecause: string | null;
  refusals: Refusal[];
}

const ROLLED_OVER = 'history rolled over';
/** The account's sessions were ended (a password change, here or elsewhere): the server refused or closed us. */
const SESSION_REVOKED = 'session_revoked';
const MAX_REFUSALS_KEPT = 20;

/** The user's colour (hue from the id, saturation 65 %, lightness 42 %) as #rrggbb: page carets (y-tiptap) take no other format. */
function colorOf(id: string): string {
  const hue = [...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 360, 7);
  const chroma = 0.65 * Math.min(0.42, 1 - 0.42);
  const channel = (n: number) => {
    const k = (n + hue / 30) % 12;
    const value = 0.42 - chroma * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(value * 255).toString(16).padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

export class ChannelDoc {
  doc = new Y.Doc();
  provider!: HocuspocusProvider;
  private socket!: HocuspocusProviderWebsocket;
  private persistence: IndexeddbPersistence | null = null;
  private listeners = new Set<() => void>();
  private destroyed = false;
  /** The new copy replacing a stale one, until it has synced; changes asked for meanwhile wait for it. */
  private next: Y.Doc | null = null;
  private deferred: ((doc: Y.Doc) => void)[] = [];
  /** The access token last sent to the server. */
  private sentToken: string | undefined;
  /** A refreshed token was tried after `session_revoked`, and nothing has synced since: a second one is shown. */
  private renewed = false;
  state: ChannelDocState = {
    connection: 'connecting',
    synced: false,
    loadedLocally: false,
    storageUnavailable: false,
    unsynced: 0,
    readOnly: false,
    archived: null,
    closedBecause: null,
    refusals: [],
  };

  /** Resolves once the device's copy has been read (at once when there is none to read). */
  localCopyRead: Promise<void> = Promise.resolve();

  constructor(readonly name: string) {
    this.watchLocalChanges(this.doc);
    this.open(this.doc);
    window.addEventListener('online', this.followNetwork);
    window.addEventListener('offline', this.followNetwork);
  }

  // A browser going offline may keep its WebSocket half-open for a while (emulated offline keeps it working), and
  // coming back waits for the provider's next retry: follow what the browser says instead, so edits made offline
  // stay on this device until it reconnects, at once, and merges them.
  private followNetwork = () => (navigator.onLine ? void this.socket.connect() : this.socket.disconnect());

  /** Something to show and edit: the device's copy or the server's has arrived. */
  get ready(): boolean {
    return this.state.loadedLocally || this.state.synced;
  }

  /** Edits are allowed: ready, and not read-only. */
  get editable(): boolean {
    return this.ready && !this.state.readOnly;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<ChannelDocState>): void {
    this.state = { ...this.state, ...patch };
    if (this.state.synced && this.state.unsynced === 0) markPending(this.name, false);
    this.listeners.forEach((l) => l());
  }

  /**
   * Makes a change on the current copy; while a stale copy is being replaced, on the new copy as soon as it has
   * synced (a change made on the old one then would be lost).
   */
  write(edit: (doc: Y.Doc) => void): void {
    if (this.next) this.deferred.push(edit);
    else edit(this.doc);
  }

  /** A change made here (not one from the server or from IndexedDB) is pending until the server has it. */
  private watchLocalChanges(doc: Y.Doc): void {
    doc.on('update', (_update: Uint8Array, origin: unknown) => {
      if (origin !== this.provider && origin !== this.persistence) markPending(this.name, true);
    });
  }

  private open(doc: Y.Doc): void {
    const user = currentUser();
    if (!this.persistence) this.openLocalCopy(user?.id, doc);
    this.socket = new HocuspocusProviderWebsocket({ url: `${location.origin.replace(/^http/, 'ws')}/collab` });
    const provider = new HocuspocusProvider({
      websocketProvider: this.socket,
      name: this.name,
      document: doc,
      token: async () => (this.sentToken = await accessToken()),
      onStatus: ({ status }) => this.provider === provider && this.set({ connection: status as ChannelDocState['connection'], ...(status !== 'connected' && { synced: false }) }),
      onSynced: ({ state }) => {
        if (this.provider !== provider) return;
        if (state && this.next === doc) this.replaceWithNext();
        if (state) this.renewed = false;
        this.set({ synced: state, closedBecause: null, ...(state && { loadedLocally: true }) });
      },
      onUnsyncedChanges: ({ number }) => this.provider === provider && this.set({ unsynced: number }),
      onAuthenticated: ({ scope }) => this.provider === provider && this.set({ readOnly: scope === 'readonly' }),
      onAuthenticationFailed: ({ reason }) => this.provider === provider && this.refusedWith(reason, doc),
      onClose: ({ event }) => {
        if (this.provider !== provider || !event.reason) return;
        if (event.reason === ROLLED_OVER) this.reopen(false, doc);
        else this.refusedWith(event.reason, doc);
      },
      onStateless: ({ payload }) => this.provider === provider && this.onNotice(payload),
    });
    this.provider = provider;
    provider.attach();
    if (user) provider.setAwarenessField('user', { color: colorOf(user.id) });
  }

  /**
   * After `session_revoked`, reconnects once with a refreshed token: the session that changed the password gets one
   * (or has it already), an ended session's refresh fails and signs it out. Any other reason is shown.
   */
  private refusedWith(reason: string, doc: Y.Doc): void {
    if (reason !== SESSION_REVOKED || this.renewed) {
      this.set({ closedBecause: reason });
      return;
    }
    this.renewed = true;
    accessToken({ refused: this.sentToken, revoked: true }).then(
      () => !this.destroyed && this.reopen(false, doc),
      () => this.set({ closedBecause: reason }),
    );
  }

  private openLocalCopy(userId: string | undefined, doc: Y.Doc): void {
    if (!userId || typeof indexedDB === 'undefined') {
      this.set({ loadedLocally: false, storageUnavailable: true });
      return;
    }
    try {
      const persistence = new IndexeddbPersistence(`${DOC_DB_PREFIX}${userId}:${this.name}`, doc);
      this.persistence = persistence;
      this.localCopyRead = persistence.whenSynced.then(() => undefined, () => undefined);
      // An empty database is no copy: a channel never opened on this device waits for the server.
      persistence.whenSynced.then(
        () => this.persistence === persistence && doc.store.clients.size > 0 && this.set({ loadedLocally: true }),
        () => this.set({ storageUnavailable: true }),
      );
      // y-indexeddb reports a database that cannot be opened only through the request's error.
      persistence._db.catch(() => this.persistence === persistence && this.set({ storageUnavailable: true }));
    } catch {
      this.set({ storageUnavailable: true });
    }
  }

  private onNotice(payload: string): void {
    let notice: { type?: string; event?: string; refusals?: Omit<Refusal, 'at'>[]; read_only?: boolean; archived?: boolean };
    try {
      notice = JSON.parse(payload);
    } catch {
      return;
    }
    if (notice.type === 'refused' && Array.isArray(notice.refusals)) {
      const at = Date.now();
      this.set({ refusals: [...this.state.refusals, ...notice.refusals.map((r) => ({ ...r, at }))].slice(-MAX_REFUSALS_KEPT) });
    } else if (notice.type === 'access') {
      // Demoted, promoted, or the channel archived or unarchived while open: views follow at once.
      this.set({ readOnly: notice.read_only === true, archived: notice.archived === true });
    } else if (notice.type === 'history' && notice.event === 'stale') {
      this.reopen(true, this.next ?? this.doc);
    }
  }

  /**
   * Opens a new connection: with the same copy after a rollover, or with a new, empty one once it is stale. The old
   * copy stays on screen until the new one has synced (`write` holds changes meanwhile), so the view never blinks
   * to "Opening…" nor loses what someone was doing.
   */
  private reopen(stale: boolean, doc: Y.Doc): void {
    this.closeConnection();
    // A change made after the server took this copy over reached a closed connection: reopening with the same copy
    // has it taken over too (the server takes a stale copy over each time it comes back).
    if (!stale || this.state.unsynced > 0) {
      if (!this.destroyed) this.open(doc);
      return;
    }
    // The old copy's database must be gone before a new copy opens one under the same name, or it would load it.
    const cleared = this.persistence?.clearData().catch(() => undefined);
    this.persistence = null;
    if (this.next) this.next.destroy();
    const next = new Y.Doc();
    this.next = next;
    this.watchLocalChanges(next);
    this.set({ synced: false, unsynced: 0 });
    void Promise.resolve(cleared).then(() => !this.destroyed && this.next === next && this.open(next));
  }

  private replaceWithNext(): void {
    const old = this.doc;
    this.doc = this.next!;
    this.next = null;
    old.destroy();
    for (const edit of this.deferred.splice(0)) edit(this.doc);
  }

  dismissRefusals(): void {
    this.set({ refusals: [] });
  }

  private closeConnection(): void {
    this.provider.destroy();
    this.socket.destroy();
  }

  destroy(): void {
    this.destroyed = true;
    window.removeEventListener('online', this.followNetwork);
    window.removeEventListener('offline', this.followNetwork);
    this.closeConnection();
    void this.persistence?.destroy();
    this.doc.destroy();
    this.next?.destroy();
    this.listeners.clear();
  }
}
