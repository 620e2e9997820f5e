// A chat's history beyond its live part, paged over REST (GET /api/channels/:id/messages, pages of 50, oldest
// first, `next_before` null at the start). Each message says which part holds it (`part`: null for the live part,
// n for the segment `<channel>/history/<n>`). When the server rolls the live part over, the app's live copy is
// replaced by the new generation's: the messages that left it are fetched again (now with their segment), so the
// conversation shown stays whole.
import { useCallback, useEffect, useRef, useState } from 'react';
import type * as Y from 'yjs';
import { ApiError, get } from '../../api.ts';
import type { chat } from '../../shapes.ts';

/** A message with the part of history holding it (null: the live part). */
export type ChatMessage = chat.Message & { part: number | null };

interface Page {
  messages: ChatMessage[];
  next_before: string | null;
}

const PAGE = 50;
/** Pages fetched at most to close the gap a rollover leaves (a long offline spell may leave a bigger one). */
const MAX_GAP_PAGES = 20;

export interface ChatHistory {
  /** Messages older than the live part, oldest first. */
  older: ChatMessage[];
  /** Nothing is older than what is shown. */
  atStart: boolean;
  loading: boolean;
  error: string | null;
  loadOlder(): void;
}

const pagePath = (channelId: string, query: Record<string, string | undefined>) => {
  const params = new URLSearchParams({ limit: String(PAGE) });
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  return `/api/channels/${channelId}/messages?${params}`;
};

const describe = (error: unknown) => (error instanceof ApiError ? error.message : String(error));

/** Every page of a thread's replies, oldest first (a reply may live in a later part than its parent). */
export async function threadReplies(channelId: string, threadId: string): Promise<ChatMessage[]> {
  const pages: ChatMessage[][] = [];
  let before: string | undefined;
  for (let i = 0; i < MAX_GAP_PAGES; i++) {
    const page = await get<Page>(pagePath(channelId, { thread: threadId, before }));
    pages.unshift(page.messages);
    if (!page.next_before) break;
    before = page.next_before;
  }
  return pages.flat();
}

/** The oldest live message the server has (one posted here and not yet stored is not a place in its history). */
const oldestStored = (live: chat.Message[]) => (live.find((m) => m.received_at) ?? live[0])?.id;

interface Kept {
  older: ChatMessage[];
  atStart: boolean;
  /** The live copy this view last showed, and its oldest message. */
  seen: { doc: Y.Doc; oldest: string } | null;
  leftAt: number;
}

/**
 * What a chat view had loaded, kept a little while after it goes: the view is shown again when its live copy is
 * replaced after a rollover (the channel reopens with a new, empty copy), and the reader should find the
 * conversation as it was, not only the new live part.
 */
const kept = new Map<string, Kept>();
const KEEP_MS = 60_000;

export function useChatHistory(channelId: string, doc: Y.Doc, live: chat.Message[]): ChatHistory {
  const [restored] = useState(() => {
    const k = kept.get(channelId);
    return k && Date.now() - k.leftAt < KEEP_MS ? k : undefined;
  });
  const [older, setOlder] = useState<ChatMessage[]>(restored?.older ?? []);
  const [atStart, setAtStart] = useState(restored?.atStart ?? false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const current = useRef({ older, live, loading, atStart, doc });
  current.current = { older, live, loading, atStart, doc };
  const firstSeen = useRef<Kept['seen']>(restored?.seen ?? null);
  useEffect(
    () => () => void kept.set(channelId, { ...current.current, seen: firstSeen.current, leftAt: Date.now() }),
    [channelId],
  );

  const loadOlder = useCallback(() => {
    const { older: shown, live: inLive, loading: busy, atStart: done, doc: asked } = current.current;
    if (busy || done) return;
    current.current.loading = true;
    setLoading(true);
    setError(null);
    get<Page>(pagePath(channelId, { before: shown[0]?.id ?? oldestStored(inLive) })).then(
      (page) => {
        if (current.current.doc !== asked) return;
        setOlder((list) => {
          const known = new Set(list.map((m) => m.id));
          return [...page.messages.filter((m) => !known.has(m.id)), ...list];
        });
        setAtStart(page.next_before === null);
      },
      (err) => setError(describe(err)),
    ).finally(() => setLoading(false));
  }, [channelId]);

  // After a rollover the live copy is a new document holding only the newest messages: fetch the ones that left
  // it, back to the oldest message shown before, and add them after the older ones already shown.
  useEffect(() => {
    const oldest = oldestStored(live);
    if (!oldest || firstSeen.current?.doc === doc) return;
    const previous = firstSeen.current;
    firstSeen.current = { doc, oldest };
    if (!previous || live.some((m) => m.id === previous.oldest)) return;
    void (async () => {
      const shown = new Set([...current.current.older.map((m) => m.id), previous.oldest]);
      const fetched: ChatMessage[][] = [];
      let before: string | undefined = oldest;
      let reachedStart = false;
      for (let i = 0; i < MAX_GAP_PAGES; i++) {
        const page: Page = await get<Page>(pagePath(channelId, { before }));
        fetched.unshift(page.messages);
        reachedStart = page.next_before === null;
        if (reachedStart || page.messages.some((m) => shown.has(m.id))) break;
        before = page.next_before!;
      }
      if (current.current.doc !== doc) return;
      const gap = fetched.flat();
      // Both are contiguous runs of history: the gap (ending where the live part starts) either covers what was
      // shown, or begins inside it.
      setOlder((list) => {
        if (list.length && gap.some((m) => m.id === list[0]!.id)) return gap;
        const known = new Set(list.map((m) => m.id));
        return [...list, ...gap.filter((m) => !known.has(m.id))];
      });
      if (reachedStart) setAtStart(true);
    })().catch((err) => current.current.doc === doc && setError(describe(err)));
  }, [channelId, doc, live]);

  return { older, atStart, loading, error, loadOlder };
}
