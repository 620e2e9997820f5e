// Back online, documents changed on this device while offline are synced even when no view has them open: each
// is opened in the background until the server has acknowledged everything this copy holds, then closed.
import { pendingDocuments } from '../offline-data.ts';
import { ChannelDoc } from './channel-doc.ts';
import { isOpen } from './open-docs.ts';

const GIVE_UP_MS = 60_000;
const syncing = new Set<string>();

function syncOne(name: string): Promise<void> {
  const channelDoc = new ChannelDoc(name);
  return new Promise<void>((resolve) => {
    let copyRead = false;
    const finish = () => {
      clearTimeout(timer);
      unsubscribe();
      channelDoc.destroy();
      resolve();
    };
    const check = () => {
      const { synced, unsynced, closedBecause } = channelDoc.state;
      if (closedBecause || (copyRead && synced && unsynced === 0)) finish();
    };
    const timer = setTimeout(finish, GIVE_UP_MS);
    const unsubscribe = channelDoc.subscribe(check);
    void channelDoc.localCopyRead.then(() => {
      copyRead = true;
      check();
    });
  });
}

/** Syncs every pending document that no view has open (those sync themselves). */
export function syncPendingDocuments(): void {
  if (!navigator.onLine) return;
  for (const name of pendingDocuments()) {
    if (isOpen(name) || syncing.has(name)) continue;
    syncing.add(name);
    void syncOne(name).finally(() => syncing.delete(name));
  }
}
