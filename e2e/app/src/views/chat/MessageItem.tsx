// One message: author, time, text ("edited", or shown as deleted), reactions with who made them, and what the
// reader may do with it: react, reply in its thread, edit and delete their own, delete anyone's as a moderator.
import { useState, type KeyboardEvent } from 'react';
import { nameOf, type Person } from '../../people.ts';
import type { ChatMessage } from './history.ts';

export const QUICK_REACTIONS = ['👍', '❤️', '😄', '🎉', '👀'];

export interface MessageActions {
  react(message: ChatMessage, emoji: string, on: boolean): void;
  edit(message: ChatMessage, text: string): void;
  remove(message: ChatMessage): void;
  openThread?(message: ChatMessage): void;
}

export interface MessageItemProps {
  message: ChatMessage;
  names: Record<string, Person>;
  myId: string | undefined;
  /** Shows the author and time (the first of a run by one author). */
  header: boolean;
  editable: boolean;
  canModerate: boolean;
  replies: number;
  focused: boolean;
  actions: MessageActions;
  /** Carries the `item-<id>` element id that focus and links find (false for a second copy, e.g. a thread's start). */
  anchored?: boolean;
}

const timeOf = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export function MessageItem({ message: m, names, myId, header, editable, canModerate, replies, focused, actions, anchored = true }: MessageItemProps) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const [picking, setPicking] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const author = nameOf(names, m.author_id);
  const mine = m.author_id === myId;
  const save = () => {
    if (draft.trim() && draft !== m.text) actions.edit(m, draft);
    setEditing(false);
  };
  const onEditKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      save();
    } else if (event.key === 'Escape') setEditing(false);
  };
  return (
    <li
      id={anchored ? `item-${m.id}` : undefined}
      tabIndex={-1}
      data-testid="message"
      aria-label={`${author}, ${timeOf(m.created_at)}`}
      className={`message${header ? ' first' : ''}${focused ? ' focused' : ''}${m.deleted ? ' deleted' : ''}`}
    >
      {header ? (
        <p className="byline">
          <strong>{author}</strong> <time dateTime={m.created_at}>{timeOf(m.created_at)}</time>
        </p>
      ) : null}
      {m.deleted ? (
        <p className="text muted">This message was deleted.</p>
      ) : editing ? (
        <div className="edit">
          <textarea aria-label="Edit message" value={draft} maxLength={10_000} onChange={(e) => setDraft(e.target.value)} onKeyDown={onEditKey} autoFocus />
          <button type="button" onClick={save}>Save</button>
          <button type="button" className="quiet" onClick={() => setEditing(false)}>Cancel</button>
        </div>
      ) : (
        <p className="text">
          <span className="body">{m.text}</span>
          {m.edited_at && <span className="muted"> (edited)</span>}
        </p>
      )}
      {!m.deleted && Object.keys(m.reactions).length > 0 && (
        <ul className="reactions" aria-label="Reactions">
          {Object.entries(m.reactions).map(([emoji, users]) => {
            const who = users.map((id) => nameOf(names, id)).join(', ');
            const reacted = !!myId && users.includes(myId);
            return (
              <li key={emoji}>
                <button
                  type="button"
                  aria-pressed={reacted}
                  aria-label={`${emoji} ${users.length}: ${who}`}
                  title={who}
                  disabled={!editable}
                  onClick={() => actions.react(m, emoji, !reacted)}
                >
                  {emoji} {users.length}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {!m.deleted && (
        <div className="actions">
          {actions.openThread && (
            <button type="button" className={replies ? 'quiet replies' : 'quiet'} onClick={() => actions.openThread!(m)}>
              {replies ? `${replies} ${replies === 1 ? 'reply' : 'replies'}` : 'Reply in thread'}
            </button>
          )}
          {editable && (
            <button type="button" className="quiet" aria-expanded={picking} onClick={() => setPicking(!picking)}>React</button>
          )}
          {editable && mine && !editing && (
            <button type="button" className="quiet" onClick={() => (setDraft(m.text), setEditing(true))}>Edit</button>
          )}
          {editable && (mine || canModerate) && (
            confirming ? (
              <span role="group" aria-label="Delete this message?">
                <button type="button" onClick={() => (setConfirming(false), actions.remove(m))}>Yes, delete</button>
                <button type="button" className="quiet" onClick={() => setConfirming(false)}>Keep</button>
              </span>
            ) : (
              <button type="button" className="quiet" onClick={() => setConfirming(true)}>{mine ? 'Delete' : 'Delete (moderator)'}</button>
            )
          )}
          {picking && (
            <span role="group" aria-label="Pick a reaction">
              {QUICK_REACTIONS.map((emoji) => (
                <button
                  key={emoji}
                  type="button"
                  className="quiet"
                  aria-label={`React with ${emoji}`}
                  onClick={() => {
                    setPicking(false);
                    actions.react(m, emoji, !(myId && m.reactions[emoji]?.includes(myId)));
                  }}
                >
                  {emoji}
                </button>
              ))}
            </span>
          )}
        </div>
      )}
    </li>
  );
}
