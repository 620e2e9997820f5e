// React's view of channel documents: one ChannelDoc per open view, its state, and values read from its Yjs
// document, recomputed after each change.
import { useCallback, useEffect, useMemo, useReducer, useState, useSyncExternalStore } from 'react';
import type * as Y from 'yjs';
import { ChannelDoc, type ChannelDocState } from './channel-doc.ts';
import { trackOpenDoc } from './open-docs.ts';

export interface OpenChannelDoc {
  channelDoc: ChannelDoc;
  state: ChannelDocState;
  /** Changes only when the server declared the copy stale and a new one replaced it. */
  doc: Y.Doc;
}

/** Opens the document while the view shows it (null until then). */
export function useChannelDoc(name: string): OpenChannelDoc | null {
  const [channelDoc, setChannelDoc] = useState<ChannelDoc | null>(null);
  useEffect(() => {
    const opened = new ChannelDoc(name);
    setChannelDoc(opened);
    const untrack = trackOpenDoc(opened);
    return () => {
      untrack();
      opened.destroy();
    };
  }, [name]);
  const subscribe = useCallback((listener: () => void) => channelDoc?.subscribe(listener) ?? (() => undefined), [channelDoc]);
  const state = useSyncExternalStore(subscribe, () => channelDoc?.state ?? null);
  if (!channelDoc || !state || channelDoc.name !== name) return null;
  return { channelDoc, state, doc: channelDoc.doc };
}

/** `read(doc)`, recomputed after every change of the document. */
export function useDocValue<T>(doc: Y.Doc, read: (doc: Y.Doc) => T): T {
  const [version, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    doc.on('update', bump);
    return () => doc.off('update', bump);
  }, [doc]);
  return useMemo(() => read(doc), [doc, version]);
}
