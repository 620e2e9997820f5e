// Real @hocuspocus/provider clients for bench/collab/index.ts.
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import * as Y from 'yjs';

export interface BenchClient {
  doc: Y.Doc;
  provider: HocuspocusProvider;
  close(): void;
}

export const collabUrl = (httpUrl: string) => `${httpUrl.replace(/^http/, 'ws')}/collab`;

/** Changes our server's write rules refused, over all clients of this process (bare Hocuspocus refuses none). */
export const refused = { changes: 0, rules: new Set<string>() };

function countRefusals({ payload }: { payload: string }): void {
  let notice: { type?: string; refusals?: { rule: string; count: number }[] };
  try {
    notice = JSON.parse(payload);
  } catch {
    return;
  }
  if (notice.type !== 'refused') return;
  for (const { rule, count } of notice.refusals ?? []) {
    refused.changes += count;
    refused.rules.add(rule);
  }
}

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
  provider.on('stateless', countRefusals);
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
