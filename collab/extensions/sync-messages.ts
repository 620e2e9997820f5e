import { OutgoingMessage, type Connection } from '@hocuspocus/server';

// y-protocols sync message types that carry document updates (step 1 only carries a state vector).
export const SYNC_STEP_2 = 1;
export const SYNC_UPDATE = 2;

export const carriesUpdate = (type: number) => type === SYNC_STEP_2 || type === SYNC_UPDATE;

/** Asks a client for everything the server lacks (a sync step 1 with the server's state vector). */
export function askForMissing(connection: Connection): void {
  connection.send(
    new OutgoingMessage(connection.messageAddress).createSyncMessage().writeFirstSyncStepFor(connection.document)
      .toUint8Array(),
  );
}
