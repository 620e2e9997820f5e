// Sealed history segments (`<channel id>/history/<n>`) opened over /collab when someone edits, reacts to or deletes
// a message that lives in one (REST says which: `part`). They stay open while the chat is shown, so what others
// change there shows live too, and their refusals are shown like the live part's.
import { useCallback, useEffect, useReducer, useState } from 'react';
import type * as Y from 'yjs';
import { ChannelDoc } from '../../collab/channel-doc.ts';
import { trackOpenDoc } from '../../collab/open-docs.ts';
import { chat } from '../../shapes.ts';

const WAIT_MS = 15_000;

export interface Segments {
  /** The open segments' documents, by part. */
  open: Map<number, ChannelDoc>;
  /** Opens the segment (if it is not open yet). */
  ensure(part: number): void;
  /** The segment's document once it holds the message (opened now if it is not open yet). */
  docFor(part: number, messageId: string): Promise<Y.Doc>;
}

function holding(segment: ChannelDoc, messageId: string): Promise<Y.Doc> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!segment.state.synced || !chat.readMessageById(segment.doc, messageId)) return false;
      stop();
      resolve(segment.doc);
      return true;
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(segment.state.closedBecause ?? 'the part of history holding this message did not open'));
    }, WAIT_MS);
    const unsubscribe = segment.subscribe(check);
    const stop = () => {
      clearTimeout(timer);
      unsubscribe();
    };
    check();
  });
}

interface OpenSegment {
  channelDoc: ChannelDoc;
  close(): void;
}

export function useSegments(channelId: string): Segments {
  const [segments] = useState(() => new Map<number, OpenSegment>());
  const [, changed] = useReducer((n: number) => n + 1, 0);
  useEffect(
    () => () => {
      segments.forEach((s) => s.close());
      segments.clear();
    },
    [segments],
  );
  const ensure = useCallback(
    (part: number): OpenSegment => {
      let segment = segments.get(part);
      if (!segment) {
        const channelDoc = new ChannelDoc(`${channelId}/history/${part}`);
        const untrack = trackOpenDoc(channelDoc);
        const unsubscribe = channelDoc.subscribe(changed);
        channelDoc.doc.on('update', changed);
        segment = {
          channelDoc,
          close() {
            channelDoc.doc.off('update', changed);
            unsubscribe();
            untrack();
            channelDoc.destroy();
          },
        };
        segments.set(part, segment);
        changed();
      }
      return segment;
    },
    [channelId, segments],
  );
  const docFor = useCallback((part: number, messageId: string) => holding(ensure(part).channelDoc, messageId), [ensure]);
  const open = new Map([...segments].map(([part, s]) => [part, s.channelDoc]));
  return { open, ensure: useCallback((part: number) => void ensure(part), [ensure]), docFor };
}
