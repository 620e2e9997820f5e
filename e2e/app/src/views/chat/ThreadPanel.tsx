// A thread beside the chat: its first message, its replies (the ones shown in the chat, and any in older parts of
// history, paged with `?thread=`), and a composer that replies in it.
import { useEffect, useState } from 'react';
import type * as Y from 'yjs';
import { ApiError } from '../../api.ts';
import { Composer } from './Composer.tsx';
import { threadReplies, type ChatMessage } from './history.ts';
import { MessageItem, type MessageItemProps } from './MessageItem.tsx';

type Shared = Omit<MessageItemProps, 'message' | 'header' | 'replies' | 'focused'>;

export function ThreadPanel({ channelId, liveDoc, parent, threadId, shown, focus, resolve, onReply, onTyping, onClose, ...item }: Shared & {
  channelId: string;
  liveDoc: Y.Doc;
  threadId: string;
  parent: ChatMessage | undefined;
  /** Replies among the messages the chat shows. */
  shown: ChatMessage[];
  focus: string | null;
  /** The current state of a message fetched earlier (its part's document may have changed it since). */
  resolve(message: ChatMessage): ChatMessage;
  onReply(text: string): void;
  onTyping(): void;
  onClose(): void;
}) {
  const [fetched, setFetched] = useState<ChatMessage[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    threadReplies(channelId, threadId).then(
      (replies) => live && setFetched(replies),
      (err) => live && setError(err instanceof ApiError ? err.message : String(err)),
    );
    return () => {
      live = false;
    };
  }, [channelId, threadId, liveDoc]);
  const shownIds = new Set(shown.map((m) => m.id));
  const replies = [...fetched.filter((m) => !shownIds.has(m.id)).map(resolve), ...shown];
  return (
    <aside className="thread" aria-label="Thread">
      <header>
        <h2>Thread</h2>
        <button type="button" className="quiet" onClick={onClose}>Close thread</button>
      </header>
      <ol className="messages">
        {parent ? (
          <MessageItem {...item} message={parent} header replies={0} focused={false} anchored={false} />
        ) : (
          <li className="muted">The thread’s first message is further back in history.</li>
        )}
        {replies.map((m) => (
          <MessageItem key={m.id} {...item} message={m} header replies={0} focused={focus === m.id} />
        ))}
      </ol>
      {error && <p className="error" role="alert">Older replies could not be loaded: {error}</p>}
      <p className="muted">{replies.length === 1 ? '1 reply' : `${replies.length} replies`}</p>
      <Composer key={threadId} label="Reply in thread" draftKey={`${channelId}/${threadId}`} disabled={!item.editable} onSend={onReply} onTyping={onTyping} />
    </aside>
  );
}
