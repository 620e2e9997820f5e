// Writing a message: Enter sends, Shift+Enter starts a new line (as in Slack or Mattermost); a Send button too.
// Drafts outlive the composer (leaving the channel, or the view shown again while its copy is replaced after a
// rollover): nothing typed is lost.
import { useState, type FormEvent, type KeyboardEvent } from 'react';

const MAX_CHARACTERS = 10_000;
const drafts = new Map<string, string>();

export function Composer({ label, draftKey, disabled, onSend, onTyping }: {
  label: string;
  /** Where the draft is kept: one per channel and thread. */
  draftKey: string;
  disabled: boolean;
  onSend(text: string): void;
  onTyping(): void;
}) {
  const [text, setDraft] = useState(() => drafts.get(draftKey) ?? '');
  const setText = (value: string) => {
    setDraft(value);
    if (value) drafts.set(draftKey, value);
    else drafts.delete(draftKey);
  };
  const send = (event?: FormEvent) => {
    event?.preventDefault();
    if (!text.trim() || disabled) return;
    onSend(text);
    setText('');
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) send(event);
  };
  return (
    <form className="composer" onSubmit={send}>
      <textarea
        aria-label={label}
        rows={2}
        value={text}
        maxLength={MAX_CHARACTERS}
        disabled={disabled}
        placeholder={disabled ? 'You cannot write here' : 'Enter sends, Shift+Enter for a new line'}
        onChange={(e) => {
          setText(e.target.value);
          onTyping();
        }}
        onKeyDown={onKeyDown}
      />
      <button type="submit" disabled={disabled || !text.trim()}>Send</button>
    </form>
  );
}
