// Real @hocuspocus/provider clients against a running test server.
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import * as Y from 'yjs';
import type { TestServer } from '../../server/test/harness.ts';
import { chat, kanban, tasks } from '../shapes/index.ts';

export interface Client {
  doc: Y.Doc;
  provider: HocuspocusProvider;
  socket: HocuspocusProviderWebsocket;
  /** Why the server refused or closed, if it did. */
  refusal: Promise<string>;
  /** Resolves when every local change has been acknowledged by the server. */
  /** Resolves once the server has acknowledged everything (within `ms`). */
  saved(ms?: number): Promise<void>;
  close(): void;
}

export function collabUrl(server: TestServer): string {
  return `${server.url.replace('http', 'ws')}/collab`;
}

/** Connects a provider; resolves once synced, or, with `expectRefusal`, once refused. */
export async function connect(
  server: TestServer,
  name: string,
  token: string | (() => Promise<string>),
  options: { expectRefusal?: boolean; doc?: Y.Doc } = {},
): Promise<Client> {
  const doc = options.doc ?? new Y.Doc();
  const socket = new HocuspocusProviderWebsocket({ url: collabUrl(server) });
  let refused!: (reason: string) => void;
  const refusal = new Promise<string>((resolve) => (refused = resolve));
  const provider = new HocuspocusProvider({
    websocketProvider: socket,
    name,
    document: doc,
    token,
    onAuthenticationFailed: ({ reason }) => refused(reason),
    // The server closes one document's connection with a CLOSE message (the provider reports code 1000 and
    // the reason) or, for the whole socket, with a close frame in the 4000 range.
    onClose: ({ event }) => {
      if (event.code >= 4000 || (event.code === 1000 && event.reason)) refused(event.reason);
    },
  });
  provider.attach();
  const ready = new Promise<void>((resolve, reject) => {
    if (options.expectRefusal) refusal.then(() => resolve());
    else {
      provider.on('synced', () => resolve());
      refusal.then((reason) => reject(new Error(`refused: ${reason}`)));
    }
    setTimeout(() => reject(new Error(`timed out connecting to ${name}`)), 10_000).unref();
  });
  const client: Client = {
    doc,
    provider,
    socket,
    refusal,
    saved: (ms?: number) =>
      waitFor(() => provider.unsyncedChanges === 0 && provider.isSynced, `saved ${name}`, ms),
    close() {
      provider.destroy();
      socket.destroy();
    },
  };
  try {
    await ready;
  } catch (err) {
    client.close();
    throw err;
  }
  return client;
}

/** Takes a client offline (its socket closed), resolving once it knows it is. */
export async function goOffline(c: Client): Promise<void> {
  c.socket.disconnect();
  await waitFor(() => String(c.socket.status) === 'disconnected', 'disconnected');
}

/** Brings a client back online, resolving once it has synced again. */
export async function goOnline(c: Client): Promise<void> {
  await c.socket.connect();
  await waitFor(() => c.provider.isAuthenticated && c.provider.isSynced, 'synced again');
}

/**
 * Writes text into a DOC channel's page as an editor does: a new paragraph at the end, or appended to paragraph
 * `index`. Returns the paragraph's text, to edit further.
 */
export function writeParagraph(doc: Y.Doc, text: string, index?: number): Y.XmlText {
  const page = doc.getXmlFragment('default');
  const existing = index === undefined ? undefined : (page.get(index) as Y.XmlElement | undefined);
  if (existing) {
    const inner = existing.get(0) as Y.XmlText;
    inner.insert(inner.length, text);
    return inner;
  }
  const paragraph = new Y.XmlElement('paragraph');
  const inner = new Y.XmlText();
  paragraph.insert(0, [inner]);
  doc.transact(() => {
    page.push([paragraph]);
    inner.insert(0, text);
  });
  return inner;
}

/** A page's text: its paragraphs' text joined, without markup. */
export function pageText(doc: Y.Doc): string {
  return paragraphs(doc).join('');
}

/** Each top-level node's text on a page, without markup. */
export function paragraphs(doc: Y.Doc): string[] {
  return doc
    .getXmlFragment('default')
    .toArray()
    .map((node) => (node instanceof Y.XmlElement ? node.toArray().map((t) => (t as Y.XmlText).toDelta().map((op: { insert: string }) => op.insert).join('')).join('') : ''));
}

/** The text of paragraph `index` of a page, as the editor holds it (to edit at any position). */
export function paragraphText(doc: Y.Doc, index: number): Y.XmlText {
  const node = doc.getXmlFragment('default').get(index);
  if (!(node instanceof Y.XmlElement) || !(node.get(0) instanceof Y.XmlText)) throw new Error(`no paragraph ${index}`);
  return node.get(0) as Y.XmlText;
}

/**
 * Writes `text` as valid content for a channel type, as its client would: a message by `userId` (TEXT, DM), a task
 * (TODO), a column (KANBAN) or a paragraph (DOC).
 */
export function writeValid(doc: Y.Doc, channelType: string, userId: string, text: string): void {
  if (channelType === 'TEXT' || channelType === 'DM') chat.writeMessage(doc, { author_id: userId, text });
  else if (channelType === 'TODO') tasks.addTask(doc, { content: text });
  else if (channelType === 'KANBAN') kanban.addColumn(doc, text);
  else if (channelType === 'DOC') writeParagraph(doc, text);
  else throw new Error(`${channelType} channels have no document`);
}

/** The refusal notices the server sent a client (write rules), as they arrive. */
export function refusalsOf(c: Client): { rule: string; reason: string; count: number }[] {
  const seen: { rule: string; reason: string; count: number }[] = [];
  c.provider.on('stateless', ({ payload }: { payload: string }) => {
    const notice = JSON.parse(payload) as { type: string; refusals?: typeof seen };
    if (notice.type === 'refused') seen.push(...(notice.refusals ?? []));
  });
  return seen;
}

/** Polls `condition` until true; fails with `what` after `ms`. */
export async function waitFor(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
