// A kanban board: columns in order with their cards in order, live as others change them. Members add, rename,
// reorder and delete (empty) columns, add, edit, delete and move cards (drag and drop, or the Move form from the
// keyboard). Every change goes through the shared kanban shape helpers, so REST and other clients see the same.
import { useEffect, useState, type FormEvent } from 'react';
import { useDocValue } from '../collab/use-channel-doc.ts';
import { kanban } from '../shapes.ts';
import { shortName, type CardMove } from './BoardCard.tsx';
import { BoardColumn } from './BoardColumn.tsx';
import { useCardDrag } from './board-drag.ts';
import { focusItem, type ContentViewProps } from './content-view.ts';
import './BoardView.css';

export function BoardView({ open, focus }: ContentViewProps) {
  const { doc, channelDoc } = open;
  const board = useDocValue(doc, kanban.readBoard);
  const editable = channelDoc.editable;
  const drag = useCardDrag();
  const [announcement, setAnnouncement] = useState('');
  // A citation's card may arrive with the server's copy after the device's: focus it once it is there.
  const focusShown = focus !== null && board.columns.some((c) => c.id === focus || c.cards.some((card) => card.id === focus));
  useEffect(() => {
    if (focusShown) focusItem(focus);
  }, [focus, focusShown]);

  const move: CardMove = (cardId, columnId, index, options = {}) => {
    const moved = kanban.moveCard(doc, cardId, columnId, index);
    const column = kanban.readBoard(doc).columns.find((c) => c.id === columnId);
    if (!moved || !column) return;
    const position = column.cards.findIndex((c) => c.id === cardId) + 1;
    setAnnouncement(`Moved ${shortName(moved.content)} to ${column.title}, position ${position} of ${column.cards.length}`);
    // The card now lives in another list: keep the keyboard where the card went.
    if (options.refocus) requestAnimationFrame(() => document.querySelector<HTMLElement>(`#item-${cardId} .card-actions button`)?.focus());
  };
  const addColumn = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const title = String(new FormData(e.currentTarget).get('title') ?? '').trim();
    if (!title) return;
    kanban.addColumn(doc, title);
    e.currentTarget.reset();
  };
  const cardCount = board.columns.reduce((n, c) => n + c.cards.length, 0);

  return (
    <section aria-label="Board" className="board-view">
      <p className="muted">
        {board.columns.length
          ? `${board.columns.length} ${board.columns.length === 1 ? 'column' : 'columns'}, ${cardCount} ${cardCount === 1 ? 'card' : 'cards'}.`
          : 'No columns yet.'}
        {editable && cardCount > 0 && ' Drag a card, or use its Move button, to move it.'}
      </p>
      <div className="board" data-testid="board">
        {board.columns.map((column, position) => (
          <BoardColumn key={column.id} doc={doc} board={board} column={column} position={position} editable={editable} drag={drag} move={move} />
        ))}
        {editable && (
          <form aria-label="Add a column" className="add-column" onSubmit={addColumn}>
            <label className="field">
              <span>New column</span>
              <input name="title" required maxLength={200} />
            </label>
            <button type="submit">Add column</button>
          </form>
        )}
      </div>
      <div className="sr-only" aria-live="polite">{announcement}</div>
    </section>
  );
}
