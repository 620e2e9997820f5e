import type { WebSocket } from 'ws';

/**
 * How long a closed socket may wait for the client's close frame. ws waits 30 s by default, and a client that
 * never answers would hold its connection (and its place under the per-user caps) all that time.
 */
export const HANG_UP_GRACE_MS = 1000;

/** Closes with a code and reason a browser can read, then destroys the socket if the client does not answer. */
export function hangUp(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === ws.CLOSED) return;
  ws.close(code, reason);
  const timer = setTimeout(() => ws.terminate(), HANG_UP_GRACE_MS).unref();
  ws.once('close', () => clearTimeout(timer));
}
