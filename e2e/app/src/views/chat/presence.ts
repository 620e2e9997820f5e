// Who else has the chat open and who is typing, from awareness states. Names are the ones the server stamped on
// each state (`user: {id, name}`), never what a client wrote. Typing is a `typing` field holding the time of the
// last keystroke; it is cleared a few seconds after the last one (or on sending), and a state whose typing time
// has not changed for a while counts as stopped, whatever its sender does.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { HocuspocusProvider } from '@hocuspocus/provider';

const SEND_EVERY_MS = 2_000;
const CLEAR_AFTER_MS = 4_000;
const SHOWN_FOR_MS = 6_000;

interface StampedState {
  user?: { id?: unknown; name?: unknown };
  typing?: unknown;
}

const unlessSame = (was: string[], next: string[]) => (was.join('\n') === next.join('\n') ? was : next);

export interface Presence {
  /** Names of the other people here (each once, however many tabs they have open). */
  here: string[];
  typing: string[];
  /** Call on each keystroke in a composer. */
  typed(): void;
  stoppedTyping(): void;
}

export function usePresence(provider: HocuspocusProvider, myId: string | undefined): Presence {
  const [here, setHere] = useState<string[]>([]);
  const [typing, setTyping] = useState<string[]>([]);
  useEffect(() => {
    const awareness = provider.awareness;
    if (!awareness) return;
    // When this device saw each client's typing time change: clocks of other devices are not compared with ours.
    const seen = new Map<number, { at: unknown; seenAt: number }>();
    const update = () => {
      const people = new Map<string, string>();
      const typists = new Map<string, string>();
      const now = Date.now();
      awareness.getStates().forEach((raw, clientId) => {
        const state = raw as StampedState;
        const id = state.user?.id;
        const name = state.user?.name;
        if (clientId === awareness.clientID || typeof id !== 'string' || typeof name !== 'string' || id === myId) return;
        people.set(id, name);
        if (typeof state.typing !== 'number') return seen.delete(clientId);
        const last = seen.get(clientId);
        if (last?.at !== state.typing) seen.set(clientId, { at: state.typing, seenAt: now });
        if (now - (seen.get(clientId)?.seenAt ?? 0) < SHOWN_FOR_MS) typists.set(id, name);
      });
      setHere((was) => unlessSame(was, [...people.values()].sort()));
      setTyping((was) => unlessSame(was, [...typists.values()].sort()));
    };
    awareness.on('change', update);
    const expire = setInterval(update, 1_000);
    update();
    return () => {
      awareness.off('change', update);
      clearInterval(expire);
    };
  }, [provider, myId]);

  const lastSent = useRef(0);
  const clearTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const stoppedTyping = useCallback(() => {
    clearTimeout(clearTimer.current);
    if (!lastSent.current) return;
    lastSent.current = 0;
    provider.setAwarenessField('typing', null);
  }, [provider]);
  const typed = useCallback(() => {
    const now = Date.now();
    if (now - lastSent.current > SEND_EVERY_MS) {
      lastSent.current = now;
      provider.setAwarenessField('typing', now);
    }
    clearTimeout(clearTimer.current);
    clearTimer.current = setTimeout(stoppedTyping, CLEAR_AFTER_MS);
  }, [provider, stoppedTyping]);
  useEffect(() => () => clearTimeout(clearTimer.current), []);
  return { here, typing, typed, stoppedTyping };
}

/** "Ana", "Ana and Ben", "Ana, Ben and Cy". */
export function listOfNames(names: string[]): string {
  if (names.length < 2) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
