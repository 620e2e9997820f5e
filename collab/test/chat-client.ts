// A chat client that follows the history protocol (collab/README "Chat history"), as the web client must: reopen
// the live part when its connection closes with `history rolled over`; drop its copy once told it is `stale`.
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import * as Y from 'yjs';
import type { TestServer } from '../../server/test/harness.ts';
import { chat } from '../shapes/index.ts';
import { collabUrl, waitFor } from './clients.ts';

export class ChatClient {
  doc = new Y.Doc();
  private provider!: HocuspocusProvider;
  private socket!: HocuspocusProviderWebsocket;
  private readonly url: string;
  /** How this copy's connection ended, if it did: a close reason, or `stale`. */
  private ended: string | undefined;
  /** Copies dropped because the server said they were stale. */
  dropped = 0;

  private readonly name: string;
  private readonly token: string;

  private constructor(name: string, token: string, server: TestServer) {
    this.name = name;
    this.token = token;
    this.url = collabUrl(server);
  }

  static async open(server: TestServer, name: string, token: string): Promise<ChatClient> {
    const client = new ChatClient(name, token, server);
    client.attach();
    await waitFor(() => client.provider.isSynced, `synced ${name}`, 10_000);
    return client;
  }

  /** Opens a connection on a socket of its own: the server's answer to closing the last one must not reach it. */
  private attach(): void {
    this.ended = undefined;
    this.socket = new HocuspocusProviderWebsocket({ url: this.url });
    const provider = new HocuspocusProvider({
      websocketProvider: this.socket,
      name: this.name,
      document: this.doc,
      token: this.token,
      onClose: ({ event }) => {
        if (this.provider === provider && event.reason) this.ended ??= event.reason;
      },
      onStateless: ({ payload }) => {
        const notice = JSON.parse(payload) as { type: string; event?: string };
        if (this.provider === provider && notice.type === 'history' && notice.event === 'stale') this.ended = 'stale';
      },
    });
    this.provider = provider;
    provider.attach();
  }

  /** Reopens after a rollover: with the same copy, or with a new one once the old was declared stale. */
  private reopen(): void {
    const stale = this.ended === 'stale';
    this.close();
    if (stale) {
      this.doc = new Y.Doc();
      this.dropped++;
    }
    this.attach();
  }

  /**
   * Posts a message and resolves once the server has it stored: acknowledged, or taken over from a stale copy.
   */
  async post(authorId: string, text: string): Promise<void> {
    chat.writeMessage(this.doc, { author_id: authorId, text });
    await this.settle();
  }

  /** Waits until everything written is stored and this copy is current, following rollovers. */
  async settle(ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: not settled (${this.ended ?? 'open'}, synced ${this.provider.isSynced}, unsynced ${this.provider.unsyncedChanges})`);
      }
      if (this.ended === 'stale' || this.ended === 'history rolled over') this.reopen();
      else if (this.ended) throw new Error(`${this.name}: closed: ${this.ended}`);
      else if (this.provider.isSynced && this.provider.unsyncedChanges === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.provider.destroy();
    this.socket.destroy();
  }
}
