// Says plainly whether the app is online, whether every change is saved, and whether IndexedDB keeps copies.
import { useSyncExternalStore } from 'react';
import { useOpenDocsSummary } from '../collab/open-docs.ts';

/** Whether the browser says it is online, re-read when that changes. */
export function useOnline(): boolean {
  return useSyncExternalStore(
    (listener) => {
      window.addEventListener('online', listener);
      window.addEventListener('offline', listener);
      return () => {
        window.removeEventListener('online', listener);
        window.removeEventListener('offline', listener);
      };
    },
    () => navigator.onLine,
  );
}

export function StatusBar({ storageUnavailable }: { storageUnavailable: boolean }) {
  const online = useOnline();
  const { unsynced, documents, pendingChannels } = useOpenDocsSummary();
  const changes = `${unsynced} unsynced change${unsynced === 1 ? '' : 's'}`;
  const text = !online
    ? `Offline: changes stay on this device and sync when you reconnect${pendingChannels ? ` (unsynced changes in ${pendingChannels} channel${pendingChannels === 1 ? '' : 's'})` : ''}`
    : unsynced
      ? `Saving… ${changes}`
      : documents
        ? 'All changes saved'
        : 'Online';
  return (
    <div className={`status ${online ? (unsynced ? 'saving' : 'saved') : 'offline'}`} role="status" aria-live="polite" data-testid="status">
      <span>{text}</span>
      {storageUnavailable && <span className="warning"> · This browser cannot keep offline copies: work stays online only</span>}
    </div>
  );
}
