// Other people's carets and selections in the page, with their names and colours, from the channel's presence
// (awareness). The name is what the server stamps in each state (`user.name`), the colour what that person's
// client set (`user.color`). @tiptap/extension-collaboration-caret has no release for this Tiptap version, so
// this is the same y-tiptap plugin it wraps, with builders of our own.
import { Extension } from '@tiptap/core';
import { yCursorPlugin } from '@tiptap/y-tiptap';
import type { Awareness } from 'y-protocols/awareness';

interface CaretUser {
  name: string;
  color: string;
}

function caret(user: CaretUser): HTMLElement {
  const element = document.createElement('span');
  element.className = 'page-caret';
  element.style.borderColor = user.color;
  const label = document.createElement('span');
  label.className = 'page-caret-name';
  label.style.backgroundColor = user.color;
  label.textContent = user.name;
  // Zero-width word joiners keep the caret from breaking the line it sits in (as y-tiptap's own caret does).
  element.append('\u2060', label, '\u2060');
  return element;
}

const selection = (user: CaretUser) => ({ class: 'page-selection', style: `background-color: ${user.color}33` });

export const CollaborationCarets = Extension.create<{ awareness: Awareness | null }>({
  name: 'collaborationCarets',
  addOptions() {
    return { awareness: null };
  },
  addProseMirrorPlugins() {
    const { awareness } = this.options;
    return awareness ? [yCursorPlugin(awareness, { cursorBuilder: caret, selectionBuilder: selection })] : [];
  },
});
