// Where a dragged card would land in a column's list: before the first other card whose middle is below the
// pointer, so the drop marker and the move agree on one position.
import { useState } from 'react';

export interface DropTarget {
  columnId: string;
  /** Position among the column's other cards (the dragged one left out), 0 first. */
  index: number;
}

export function dropIndexAt(list: HTMLElement, clientY: number, draggedId: string): number {
  const others = [...list.querySelectorAll<HTMLElement>(':scope > [data-card-id]')].filter((el) => el.dataset.cardId !== draggedId);
  const index = others.findIndex((el) => {
    const box = el.getBoundingClientRect();
    return clientY < box.top + box.height / 2;
  });
  return index === -1 ? others.length : index;
}

export interface CardDrag {
  dragged: string | null;
  target: DropTarget | null;
  start(cardId: string): void;
  over(target: DropTarget): void;
  end(): void;
}

/** The board's one drag at a time: which card, and where it would land. */
export function useCardDrag(): CardDrag {
  const [dragged, setDragged] = useState<string | null>(null);
  const [target, setTarget] = useState<DropTarget | null>(null);
  return {
    dragged,
    target,
    start: setDragged,
    over: (next) => setTarget((t) => (t?.columnId === next.columnId && t.index === next.index ? t : next)),
    end: () => {
      setDragged(null);
      setTarget(null);
    },
  };
}
