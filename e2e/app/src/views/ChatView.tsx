// Team chat (TEXT and DM channels): the conversation in the server's order, grouped by day and author, newest at the
// bottom; older history paged in as the reader scrolls back; threads, reactions, edits, deletes (moderators delete
// anyone's); who is here and who is typing. Every change is written through the shared chat shape into the
// document that holds the message: the live part, or the sealed history segment it now lives in.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type * as Y from 'yjs';
import { useResource } from '../api.ts';
import type { GroupInfo } from '../api-types.ts';
import { useDocValue } from '../collab/use-channel-doc.ts';
import { currentUser } from '../session.ts';
import { chat } from '../shapes.ts';
import { Refusals } from '../ui/Refusals.tsx';
import { Composer } from './chat/Composer.tsx';
import { useChatHistory, type ChatMessage } from './chat/history.ts';
import { MessageItem, type MessageActions } from './chat/MessageItem.tsx';
import { useAuthorNames } from './chat/names.ts';
import { listOfNames, usePresence } from './chat/presence.ts';
import { useSegments } from './chat/segments.ts';
import { ThreadPanel } from './chat/ThreadPanel.tsx';
import { focusItem, type ContentViewProps } from './content-view.ts';
import './ChatView.css';

/** Messages by one author this close together share one byline. */
const RUN_MS = 5 * 60_000;
/** History segments opened as soon as their messages are shown (so others' changes there show live): the newest. */
const LIVE_SEGMENTS = 4;

const readLive = (doc: Y.Doc): ChatMessage[] => chat.inReceiptOrder(chat.readMessages(doc)).map((m) => ({ ...m, part: null }));
const dayOf = (iso: string) => new Date(iso).toLocaleDateString([], { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });

export function ChatView({ channel, open, focus }: ContentViewProps) {
  const { doc, channelDoc } = open;
  const me = currentUser();
  const editable = channelDoc.editable;
  const live = useDocValue(doc, readLive);
  const history = useChatHistory(channel.id, doc, live);
  const segments = useSegments(channel.id);
  const groups = useResource<GroupInfo[]>(channel.group_id ? '/api/groups' : null);
  const role = groups.data?.find((g) => g.id === channel.group_id)?.role;
  const canModerate = role === 'owner' || role === 'admin';
  const presence = usePresence(channelDoc.provider, me?.id);
  const [threadId, setThreadId] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  // A message as its part's document has it now (a segment opened for an edit shows others' changes live too).
  const resolve = useCallback(
    (m: ChatMessage): ChatMessage => {
      const segment = m.part === null ? undefined : segments.open.get(m.part);
      const current = segment && chat.readMessageById(segment.doc, m.id);
      return current ? { ...current, part: m.part } : m;
    },
    [segments.open],
  );
  const shownParts = [...new Set(history.older.flatMap((m) => (m.part === null ? [] : [m.part])))].sort((a, b) => b - a).slice(0, LIVE_SEGMENTS);
  const { ensure } = segments;
  useEffect(() => shownParts.forEach(ensure), [shownParts.join(), ensure]);
  const all = useMemo(() => {
    const inLive = new Set(live.map((m) => m.id));
    return [...history.older.filter((m) => !inLive.has(m.id)).map(resolve), ...live];
  }, [history.older, live, resolve]);
  const names = useAuthorNames(useMemo(() => all.flatMap((m) => [m.author_id, ...Object.values(m.reactions).flat()]), [all]));
  const topLevel = all.filter((m) => !m.parent_id);
  const replyCounts = new Map<string, number>();
  for (const m of all) if (m.parent_id) replyCounts.set(m.parent_id, (replyCounts.get(m.parent_id) ?? 0) + 1);

  /** Runs a change on the document that holds the message: the live part, or its history segment. */
  const change = (m: ChatMessage, write: (target: Y.Doc) => unknown) => {
    setActionError(null);
    if (chat.readMessageById(doc, m.id)) return channelDoc.write((live) => void write(live));
    if (m.part === null) return setActionError('This message has just moved into history; try again in a moment.');
    segments.docFor(m.part, m.id).then(write, (err: Error) => setActionError(`Could not change this message: ${err.message}`));
  };
  const actions: MessageActions = {
    react: (m, emoji, on) => me && change(m, (d) => chat.react(d, m.id, emoji, me.id, on)),
    edit: (m, text) => change(m, (d) => chat.editMessage(d, m.id, text)),
    remove: (m) => change(m, (d) => chat.deleteMessage(d, m.id)),
    openThread: (m) => setThreadId(m.id),
  };
  const send = (text: string, parent_id?: string) => {
    if (!me) return;
    presence.stoppedTyping();
    channelDoc.write((live) => void chat.writeMessage(live, { author_id: me.id, text, parent_id }));
    stickToBottom.current = true;
  };

  // A cited message (focus): load older pages until it is there, open its thread if it is a reply, then show it.
  const focused = focus ? all.find((m) => m.id === focus) : undefined;
  useEffect(() => {
    if (!focus || focused || history.atStart || history.loading || history.error) return;
    history.loadOlder();
  }, [focus, focused, history]);
  useEffect(() => {
    if (focused?.parent_id) setThreadId(focused.parent_id);
  }, [focused?.parent_id]);
  useEffect(() => {
    if (focused) focusItem(focused.id);
  }, [focused?.id, threadId]);

  // Scrolling: newest at the bottom, kept there while the reader is there; older pages added above without moving
  // what the reader sees; the top of the list asks for the page before it.
  const log = useRef<HTMLDivElement>(null);
  const top = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const heightBefore = useRef<{ height: number; top: number; oldest: string | undefined } | null>(null);
  const firstShown = topLevel[0]?.id;
  useLayoutEffect(() => {
    const el = log.current;
    if (!el) return;
    const before = heightBefore.current;
    if (before && before.oldest !== firstShown) el.scrollTop = el.scrollHeight - before.height + before.top;
    else if (stickToBottom.current && !focus) el.scrollTop = el.scrollHeight;
    heightBefore.current = { height: el.scrollHeight, top: el.scrollTop, oldest: firstShown };
  });
  const onScroll = () => {
    const el = log.current!;
    stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    heightBefore.current = { height: el.scrollHeight, top: el.scrollTop, oldest: firstShown };
  };
  const { loadOlder } = history;
  useEffect(() => {
    if (!top.current || !log.current) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && loadOlder(), { root: log.current });
    observer.observe(top.current);
    return () => observer.disconnect();
  }, [loadOlder, history.atStart]);

  let previous: ChatMessage | undefined;
  const rows = topLevel.map((m) => {
    const day = dayOf(m.created_at);
    const newDay = !previous || dayOf(previous.created_at) !== day;
    const header = newDay || previous!.author_id !== m.author_id || Date.parse(m.created_at) - Date.parse(previous!.created_at) > RUN_MS;
    previous = m;
    return (
      <MessageItemRow key={m.id} day={newDay ? day : null}>
        <MessageItem
          message={m}
          names={names}
          myId={me?.id}
          header={header}
          editable={editable}
          canModerate={canModerate}
          replies={replyCounts.get(m.id) ?? 0}
          focused={focus === m.id}
          actions={actions}
        />
      </MessageItemRow>
    );
  });
  const thread = threadId ? all.find((m) => m.id === threadId) : undefined;

  return (
    <section className={`chat${threadId ? ' with-thread' : ''}`} aria-label="Chat">
      <div className="chat-main">
        <p className="presence muted" data-testid="presence">
          {presence.here.length ? `${listOfNames(presence.here)} ${presence.here.length === 1 ? 'is' : 'are'} here` : 'No one else is here'}
        </p>
        {[...segments.open.values()].map((segment) => (
          <Refusals key={segment.name} channelDoc={segment} state={segment.state} />
        ))}
        {actionError && <p className="error" role="alert">{actionError}</p>}
        <div className="chat-log" ref={log} onScroll={onScroll} data-testid="chat-log">
          <div ref={top} className="history-edge">
            {history.atStart ? (
              <p className="muted">This is the start of the conversation.</p>
            ) : (
              <button type="button" className="quiet" disabled={history.loading} onClick={loadOlder}>
                {history.loading ? 'Loading older messages…' : 'Load older messages'}
              </button>
            )}
            {history.error && <p className="error" role="alert">Older messages could not be loaded: {history.error}</p>}
          </div>
          <ol className="messages" aria-label="Messages">{rows}</ol>
        </div>
        <p className="typing muted" role="status" aria-live="polite" data-testid="typing">
          {presence.typing.length ? `${listOfNames(presence.typing)} ${presence.typing.length === 1 ? 'is' : 'are'} typing…` : ''}
        </p>
        <Composer label="Message" draftKey={channel.id} disabled={!editable} onSend={(text) => send(text)} onTyping={presence.typed} />
      </div>
      {threadId && (
        <ThreadPanel
          channelId={channel.id}
          liveDoc={doc}
          threadId={threadId}
          parent={thread}
          shown={all.filter((m) => m.parent_id === threadId)}
          focus={focus}
          resolve={resolve}
          names={names}
          myId={me?.id}
          editable={editable}
          canModerate={canModerate}
          actions={{ ...actions, openThread: undefined }}
          onReply={(text) => send(text, threadId)}
          onTyping={presence.typed}
          onClose={() => setThreadId(null)}
        />
      )}
    </section>
  );
}

/** A message, after the day's heading when it starts a day. */
function MessageItemRow({ day, children }: { day: string | null; children: ReactNode }) {
  return (
    <>
      {day && (
        <li className="day">
          <h2>{day}</h2>
        </li>
      )}
      {children}
    </>
  );
}
