// One column of a board: its title (rename, move left or right, delete when empty), its cards in order, the drop
// zone for dragged cards with a marker where one would land, and the form that adds a card at the bottom.
import { useRef, useState, type FormEvent } from 'react';
import type * as Y from 'yjs';
import { kanban } from '../shapes.ts';
import { BoardCard, shortName, type CardMove } from './BoardCard.tsx';
import { dropIndexAt, type CardDrag } from './board-drag.ts';

interface Props {
  doc: Y.Doc;
  board: kanban.Board;
  column: kanban.Board['columns'][number];
  /** Its position on the board, 0 first. */
  position: number;
  editable: boolean;
  drag: CardDrag;
  move: CardMove;
}

export function BoardColumn({ doc, board, column, position, editable, drag, move }: Props) {
  const [renaming, setRenaming] = useState(false);
  const list = useRef<HTMLOListElement>(null);
  const titleId = `column-title-${column.id}`;
  const name = shortName(column.title);
  const others = column.cards.filter((c) => c.id !== drag.dragged);
  const target = drag.target?.columnId === column.id ? drag.target.index : null;
  const indexAt = (clientY: number) => (list.current && drag.dragged ? dropIndexAt(list.current, clientY, drag.dragged) : others.length);

  const addCard = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const content = String(new FormData(e.currentTarget).get('content') ?? '').trim();
    if (!content) return;
    kanban.addCard(doc, column.id, content);
    e.currentTarget.reset();
  };
  const rename = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const title = String(new FormData(e.currentTarget).get('title') ?? '').trim();
    if (title && title !== column.title) kanban.renameColumn(doc, column.id, title);
    setRenaming(false);
  };

  return (
    <section
      className="board-column"
      aria-labelledby={titleId}
      id={`item-${column.id}`}
      tabIndex={-1}
      data-testid="column"
      onDragOver={(e) => {
        if (!drag.dragged) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'move';
        drag.over({ columnId: column.id, index: indexAt(e.clientY) });
      }}
      onDrop={(e) => {
        if (!drag.dragged) return;
        e.preventDefault();
        move(drag.dragged, column.id, indexAt(e.clientY));
        drag.end();
      }}
    >
      <header>
        <h2 id={titleId}>{column.title}</h2>
        <span className="muted">{column.cards.length} {column.cards.length === 1 ? 'card' : 'cards'}</span>
        <div className="column-actions">
          <button type="button" aria-label={`Rename column: ${name}`} disabled={!editable} onClick={() => setRenaming(true)}>Rename</button>
          <button type="button" aria-label={`Move column left: ${name}`} disabled={!editable || position === 0} onClick={() => kanban.moveColumn(doc, column.id, position - 1)}>←</button>
          <button type="button" aria-label={`Move column right: ${name}`} disabled={!editable || position === board.columns.length - 1} onClick={() => kanban.moveColumn(doc, column.id, position + 1)}>→</button>
          <button
            type="button"
            aria-label={`Delete column: ${name}`}
            title={column.cards.length ? 'Move or delete its cards first' : undefined}
            disabled={!editable || column.cards.length > 0}
            onClick={() => kanban.deleteColumn(doc, column.id)}
          >
            Delete
          </button>
        </div>
      </header>
      {renaming && (
        <form aria-label={`Rename column ${name}`} onSubmit={rename} onKeyDown={(e) => e.key === 'Escape' && setRenaming(false)}>
          <label className="field">
            <span>Column name</span>
            <input name="title" defaultValue={column.title} required maxLength={200} autoFocus />
          </label>
          <div className="buttons">
            <button type="submit">Save</button>
            <button type="button" className="quiet" onClick={() => setRenaming(false)}>Cancel</button>
          </div>
        </form>
      )}
      <ol ref={list} className={`board-cards${target === others.length ? ' drop-end' : ''}`} aria-label={`Cards in ${name}`}>
        {column.cards.map((card, index) => (
          <BoardCard
            key={card.id}
            doc={doc}
            board={board}
            card={card}
            index={index}
            editable={editable}
            drag={drag}
            dropBefore={target !== null && card.id !== drag.dragged && others.indexOf(card) === target}
            move={move}
          />
        ))}
      </ol>
      {editable && (
        <form aria-label={`Add a card to ${name}`} className="add-card" onSubmit={addCard}>
          <label className="field">
            <span>New card</span>
            <textarea
              name="content"
              required
              maxLength={10000}
              rows={2}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
                  e.preventDefault();
                  e.currentTarget.form?.requestSubmit();
                }
              }}
            />
          </label>
          <button type="submit">Add card</button>
        </form>
      )}
    </section>
  );
}
