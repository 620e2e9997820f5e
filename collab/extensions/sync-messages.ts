// y-protocols sync message types that carry document updates (step 1 only carries a state vector).
export const SYNC_STEP_2 = 1;
export const SYNC_UPDATE = 2;

export const carriesUpdate = (type: number) => type === SYNC_STEP_2 || type === SYNC_UPDATE;
