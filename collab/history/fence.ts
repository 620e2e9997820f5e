/** The SQLSTATE the fence trigger (migration 010) raises for an append to a sealed document. */
const SEALED = 'TS409';

/** Whether an append failed because its document was sealed (a live part rolled over, a segment being dropped). */
export function isSealed(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === SEALED;
}

/** How the server closes a connection whose live part was rolled over: the client reopens it. */
export const ROLLED_OVER_CLOSE = { code: 4409, reason: 'history rolled over' } as const;
