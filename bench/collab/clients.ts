// Real @hocuspocus/provider clients for bench/collab/index.ts, and the REST setup (user, group, channels) they need.
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import * as Y from 'yjs';
import { call } from '../shared/setup.ts';

export interface BenchClient {
  doc: Y.Doc;
  provider: HocuspocusProvider;
  close(): void;
}

export const collabUrl = (httpUrl: string) => `${httpUrl.replace(/^http/, 'ws')}/collab`;

/**
 * Connects one provider on its own WebSocket and resolves once it has synced. Awareness is off: with hundreds of
 * clients on one document its fan-out (every client renews its state every 15 s, to every other client) would
 * load this process more than the edits being measured, alike for both servers. Without awareness an idle
 * socket may receive nothing for a while, hence the long reconnect timeout.
 */
export async function connect(
  url: string,
  name: string,
  token: string,
  options: { flushDelay?: number | false; timeoutMs?: number } = {},
): Promise<BenchClient> {
  const doc = new Y.Doc();
  const socket = new HocuspocusProviderWebsocket({ url, messageReconnectTimeout: 600_000 });
  let fail!: (reason: string) => void;
  const failed = new Promise<never>((_resolve, reject) => (fail = (reason) => reject(new Error(`${name}: ${reason}`))));
  failed.catch(() => {});
  const provider = new HocuspocusProvider({
    websocketProvider: socket,
    name,
    document: doc,
    token,
    awareness: null,
    flushDelay: options.flushDelay ?? false,
    onAuthenticationFailed: ({ reason }) => fail(`refused: ${reason}`),
    onClose: ({ event }) => {
      if (event.code >= 4000 || (event.code === 1000 && event.reason)) fail(`closed: ${event.reason}`);
    },
  });
  provider.attach();
  const close = () => {
    provider.destroy();
    socket.destroy();
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      new Promise<void>((resolve) => provider.on('synced', () => resolve())),
      failed,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out connecting to ${name}`)), options.timeoutMs ?? 30_000);
      }),
    ]);
  } catch (err) {
    close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return { doc, provider, close };
}

/** Resolves once the server has acknowledged every update the provider sent (for ours: stored them). */
export function acked(provider: HocuspocusProvider, timeoutMs = 30_000): Promise<void> {
  if (provider.unsyncedChanges === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      provider.off('unsyncedChanges', check);
      reject(new Error(`no acknowledgement in ${timeoutMs} ms`));
    }, timeoutMs);
    function check({ number }: { number: number }) {
      if (number !== 0) return;
      clearTimeout(timer);
      provider.off('unsyncedChanges', check);
      resolve();
    }
    provider.on('unsyncedChanges', check);
  });
}

/** Runs `work` over `items`, at most `concurrency` at a time, keeping the results in order. */
export async function inBatches<T, R>(items: T[], concurrency: number, work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += concurrency) {
    results.push(...(await Promise.all(items.slice(i, i + concurrency).map((item, j) => work(item, i + j)))));
  }
  return results;
}

const callJson = async (url: string, init: Parameters<typeof call>[1] = {}) => JSON.parse(await call(url, init));

/** Registers a user, logs in, creates a group with `channels` DOC channels; returns the token and channel ids. */
export async function setUp(base: string, channels: number): Promise<{ token: string; channelIds: string[] }> {
  const username = `collabbench${process.pid}`;
  const password = 'a long enough benchmark passphrase';
  await call(`${base}/api/auth/register`, { method: 'POST', json: { username, email: `${username}@example.test`, password } });
  const { access_token: token } = await callJson(`${base}/api/auth/token`, { method: 'POST', form: { username, password } });
  const group = await callJson(`${base}/api/groups`, { method: 'POST', token, json: { name: 'Collab bench' } });
  const channelIds = await inBatches([...Array(channels).keys()], 8, async (i) => {
    const channel = await callJson(`${base}/api/groups/${group.id}/channels`, {
      method: 'POST', token, json: { name: `doc-${i}`, type: 'DOC' },
    });
    return channel.id as string;
  });
  return { token, channelIds };
}
