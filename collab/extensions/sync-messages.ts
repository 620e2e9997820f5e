import { OutgoingMessage, type Connection, type Document } from '@hocuspocus/server';
import type * as Y from 'yjs';

// y-protocols sync message types that carry document updates (step 1 only carries a state vector).
export const SYNC_STEP_2 = 1;
export const SYNC_UPDATE = 2;

export const carriesUpdate = (type: number) => type === SYNC_STEP_2 || type === SYNC_UPDATE;

/**
 * Asks a client for everything the server lacks (a sync step 1 with the server's state vector), or everything
 * `known` lacks (an older generation of a chat's live part: see history/stale.ts).
 */
export function askForMissing(connection: Connection, known: Y.Doc = connection.document): void {
  // Only the document's state vector is read from it.
  const from = known as Document;
  connection.send(
    new OutgoingMessage(connection.messageAddress).createSyncMessage().writeFirstSyncStepFor(from).toUint8Array(),
  );
}
