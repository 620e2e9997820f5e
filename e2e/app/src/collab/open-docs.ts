// Every channel document the app has open, so the status bar can say how all of them stand at once.
import { useSyncExternalStore } from 'react';
import type { ChannelDoc } from './channel-doc.ts';
import { exposeOpenDoc } from './devtools.ts';
import { pendingDocuments } from '../offline-data.ts';

const open = new Set<ChannelDoc>();
const listeners = new Set<() => void>();
let summary: OpenDocsSummary = { documents: 0, unsynced: 0, unsaved: false, refusals: 0, pendingChannels: 0 };

export interface OpenDocsSummary {
  documents: number;
  /** Changes not yet acknowledged by the server, over every open document. */
  unsynced: number;
  /** Some open document has changes the server has not stored. */
  unsaved: boolean;
  refusals: number;
  /** Documents changed on this device that the server does not have yet (the provider's count, offline, also
   * counts what IndexedDB replayed into it). */
  pendingChannels: number;
}

function recompute(): void {
  const docs = [...open];
  const unsynced = docs.reduce((n, d) => n + d.state.unsynced, 0);
  summary = {
    documents: docs.length, unsynced, unsaved: unsynced > 0, refusals: docs.reduce((n, d) => n + d.state.refusals.length, 0),
    pendingChannels: pendingDocuments().length,
  };
  listeners.forEach((l) => l());
}

/** A view has this document open (it syncs itself). */
export const isOpen = (name: string): boolean => [...open].some((doc) => doc.name === name);

export function trackOpenDoc(doc: ChannelDoc): () => void {
  open.add(doc);
  const unsubscribe = doc.subscribe(recompute);
  const unexpose = exposeOpenDoc(doc);
  recompute();
  return () => {
    unsubscribe();
    unexpose();
    open.delete(doc);
    recompute();
  };
}

export function useOpenDocsSummary(): OpenDocsSummary {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => summary,
  );
}
