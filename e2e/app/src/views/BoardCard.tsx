// One card of a board: its text, and for members editing, moving (a "Move" form: column and position, the
// keyboard's way to do what dragging does) and deleting. Dragging starts here; the column handles the drop.
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type * as Y from 'yjs';
import { kanban } from '../shapes.ts';
import type { CardDrag } from './board-drag.ts';

type Mode = 'view' | 'edit' | 'move' | 'delete';

/** A card's text as a control's name: one line, short enough to read out. */
export const shortName = (text: string) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
};

export interface CardMove {
  (cardId: string, columnId: string, index: number, options?: { refocus?: boolean }): void;
}

interface Props {
  doc: Y.Doc;
  board: kanban.Board;
  card: kanban.Card;
  /** Its position in its column, 0 first. */
  index: number;
  editable: boolean;
  drag: CardDrag;
  /** The drop marker shows just above this card. */
  dropBefore: boolean;
  move: CardMove;
}

export function BoardCard({ doc, board, card, index, editable, drag, dropBefore, move }: Props) {
  const [mode, setMode] = useState<Mode>('view');
  const actions = useRef<HTMLDivElement>(null);
  const returnFocus = useRef(false);
  const name = shortName(card.content);
  const close = () => {
    returnFocus.current = true;
    setMode('view');
  };
  useEffect(() => {
    if (mode !== 'view' || !returnFocus.current) return;
    returnFocus.current = false;
    actions.current?.querySelector('button')?.focus();
  }, [mode]);
  const classes = ['board-card', drag.dragged === card.id && 'dragging', dropBefore && 'drop-before'].filter(Boolean).join(' ');

  return (
    <li
      id={`item-${card.id}`}
      tabIndex={-1}
      data-card-id={card.id}
      data-testid="card"
      className={classes}
      draggable={editable && mode === 'view'}
      onDragStart={(e) => {
        e.dataTransfer.effectAllowed = 'move';
        e.dataTransfer.setData('text/plain', card.content);
        drag.start(card.id);
      }}
      onDragEnd={drag.end}
    >
      {mode === 'edit' ? (
        <CardEditor card={card} onSave={(content) => kanban.updateCard(doc, card.id, content)} onClose={close} />
      ) : (
        <p className="card-text">{card.content}</p>
      )}
      {mode === 'move' && <MoveCardForm board={board} card={card} index={index} move={move} onClose={close} />}
      {mode === 'delete' && (
        <div className="card-confirm" role="group" aria-label={`Delete ${name}?`}>
          <span>Delete this card?</span>
          <button type="button" autoFocus onClick={() => kanban.deleteCard(doc, card.id)}>Delete card</button>
          <button type="button" className="quiet" onClick={close}>Keep</button>
        </div>
      )}
      {mode === 'view' && (
        <div className="card-actions" ref={actions}>
          <button type="button" aria-label={`Edit: ${name}`} disabled={!editable} onClick={() => setMode('edit')}>Edit</button>
          <button type="button" aria-label={`Move: ${name}`} disabled={!editable} onClick={() => setMode('move')}>Move</button>
          <button type="button" aria-label={`Delete: ${name}`} disabled={!editable} onClick={() => setMode('delete')}>Delete</button>
        </div>
      )}
    </li>
  );
}

/** Escape closes a form; Ctrl/⌘+Enter sends it. */
function formKeys(onClose: () => void) {
  return (e: KeyboardEvent<HTMLElement>) => {
    if (e.key === 'Escape') onClose();
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) e.currentTarget.closest('form')?.requestSubmit();
  };
}

function CardEditor({ card, onSave, onClose }: { card: kanban.Card; onSave: (content: string) => void; onClose: () => void }) {
  const save = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const content = String(new FormData(e.currentTarget).get('content') ?? '').trim();
    if (content && content !== card.content) onSave(content);
    onClose();
  };
  return (
    <form aria-label={`Edit card ${shortName(card.content)}`} onSubmit={save}>
      <label className="field">
        <span>Card text</span>
        <textarea name="content" defaultValue={card.content} required maxLength={10000} rows={3} autoFocus onKeyDown={formKeys(onClose)} />
      </label>
      <div className="buttons">
        <button type="submit">Save</button>
        <button type="button" className="quiet" onClick={onClose}>Cancel</button>
      </div>
    </form>
  );
}

function MoveCardForm({ board, card, index, move, onClose }: { board: kanban.Board; card: kanban.Card; index: number; move: CardMove; onClose: () => void }) {
  const [columnId, setColumnId] = useState(card.column_id);
  const slotsIn = (id: string) => (board.columns.find((c) => c.id === id)?.cards.filter((c) => c.id !== card.id).length ?? 0) + 1;
  const [position, setPosition] = useState(index);
  // Labels beside (not around) the selects, so each select's name is its label alone, not its options too.
  const id = useId();
  const slots = slotsIn(columnId);
  const chosen = Math.min(position, slots - 1);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    move(card.id, columnId, chosen, { refocus: true });
    onClose();
  };
  return (
    <form aria-label={`Move card ${shortName(card.content)}`} onSubmit={submit} onKeyDown={formKeys(onClose)}>
      <div className="field">
        <label htmlFor={`${id}-column`}>Column</label>
        <select
          id={`${id}-column`}
          value={columnId}
          autoFocus
          onChange={(e) => {
            const next = e.target.value;
            setColumnId(next);
            setPosition(next === card.column_id ? index : slotsIn(next) - 1);
          }}
        >
          {board.columns.map((c) => <option key={c.id} value={c.id}>{c.title}</option>)}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-position`}>Position</label>
        <select id={`${id}-position`} value={chosen} onChange={(e) => setPosition(Number(e.target.value))}>
          {Array.from({ length: slots }, (_, i) => (
            <option key={i} value={i}>{`${i + 1}${slots > 1 && i === 0 ? ' (top)' : ''}${slots > 1 && i === slots - 1 ? ' (bottom)' : ''}`}</option>
          ))}
        </select>
      </div>
      <div className="buttons">
        <button type="submit">Move card</button>
        <button type="button" className="quiet" onClick={onClose}>Cancel</button>
      </div>
    </form>
  );
}
