import * as Y from 'yjs';
import { orderAt } from './order.ts';
import { byOrder, mapEntries, str } from './read.ts';

/**
 * KANBAN channels: `columns` Y.Map id → Y.Map {title, order}; `cards` Y.Map id → Y.Map {content, column_id,
 * order}. A card's column is one field of one map entry, so concurrent moves leave it in exactly one column.
 */
export interface Column {
  id: string;
  title: string;
  order: string;
}

export interface Card {
  id: string;
  content: string;
  column_id: string;
  order: string;
}

export interface Board {
  columns: (Column & { cards: Card[] })[];
}

const columnsOf = (doc: Y.Doc) => doc.getMap<unknown>('columns');
const cardsOf = (doc: Y.Doc) => doc.getMap<unknown>('cards');

function readColumns(doc: Y.Doc): Column[] {
  return byOrder(
    mapEntries(columnsOf(doc)).flatMap(([id, m]) => {
      const title = str(m, 'title');
      const order = str(m, 'order');
      return title === undefined || order === undefined ? [] : [{ id, title, order }];
    }),
  );
}

function readCards(doc: Y.Doc): Card[] {
  return byOrder(
    mapEntries(cardsOf(doc)).flatMap(([id, m]) => {
      const content = str(m, 'content');
      const column_id = str(m, 'column_id');
      const order = str(m, 'order');
      return content === undefined || column_id === undefined || order === undefined
        ? []
        : [{ id, content, column_id, order }];
    }),
  );
}

/** Columns in order, each with its cards in order; cards whose column is gone are not shown. */
export function readBoard(doc: Y.Doc): Board {
  const cards = readCards(doc);
  return { columns: readColumns(doc).map((c) => ({ ...c, cards: cards.filter((card) => card.column_id === c.id) })) };
}

export function readCard(doc: Y.Doc, id: string): Card | undefined {
  const card = readCards(doc).find((c) => c.id === id);
  return card && readColumns(doc).some((c) => c.id === card.column_id) ? card : undefined;
}

export function hasColumn(doc: Y.Doc, id: string): boolean {
  return readColumns(doc).some((c) => c.id === id);
}

export function addColumn(doc: Y.Doc, title: string, position?: number): Column {
  const id = crypto.randomUUID();
  const others = readColumns(doc).map((c) => c.order);
  const m = new Y.Map<unknown>();
  m.set('title', title);
  m.set('order', orderAt(others, position ?? others.length));
  columnsOf(doc).set(id, m);
  return { id, title, order: m.get('order') as string };
}

export function addCard(doc: Y.Doc, columnId: string, content: string, position?: number): Card {
  const id = crypto.randomUUID();
  const others = readCards(doc).filter((c) => c.column_id === columnId).map((c) => c.order);
  const m = new Y.Map<unknown>();
  m.set('content', content);
  m.set('column_id', columnId);
  m.set('order', orderAt(others, position ?? others.length));
  cardsOf(doc).set(id, m);
  return readCard(doc, id)!;
}

export function updateCard(doc: Y.Doc, id: string, content: string): Card | undefined {
  const m = cardsOf(doc).get(id);
  if (!(m instanceof Y.Map) || !readCard(doc, id)) return undefined;
  m.set('content', content);
  return readCard(doc, id);
}

/** Moves a card to a position (0 first) in a column, changing only its column_id and order. */
export function moveCard(doc: Y.Doc, id: string, columnId: string, position: number): Card | undefined {
  const m = cardsOf(doc).get(id);
  if (!(m instanceof Y.Map) || !readCard(doc, id) || !hasColumn(doc, columnId)) return undefined;
  const others = readCards(doc).filter((c) => c.column_id === columnId && c.id !== id).map((c) => c.order);
  // One transaction: a client sends the move as one update (one unsynced change), never half of it.
  doc.transact(() => {
    m.set('column_id', columnId);
    m.set('order', orderAt(others, position));
  });
  return readCard(doc, id);
}

export function renameColumn(doc: Y.Doc, id: string, title: string): Column | undefined {
  const m = columnsOf(doc).get(id);
  if (!(m instanceof Y.Map) || !hasColumn(doc, id)) return undefined;
  m.set('title', title);
  return readColumns(doc).find((c) => c.id === id);
}

/** Moves a column to a position (0 first) among the others, changing only its order. */
export function moveColumn(doc: Y.Doc, id: string, position: number): Column | undefined {
  const m = columnsOf(doc).get(id);
  if (!(m instanceof Y.Map) || !hasColumn(doc, id)) return undefined;
  m.set('order', orderAt(readColumns(doc).filter((c) => c.id !== id).map((c) => c.order), position));
  return readColumns(doc).find((c) => c.id === id);
}

export function deleteCard(doc: Y.Doc, id: string): boolean {
  if (!cardsOf(doc).has(id)) return false;
  cardsOf(doc).delete(id);
  return true;
}

/**
 * Removes a column that holds no cards: whether it did. Any card naming it counts, as in the write rules, which
 * refuse removing a column that still holds one.
 */
export function deleteColumn(doc: Y.Doc, id: string): boolean {
  if (!columnsOf(doc).has(id) || mapEntries(cardsOf(doc)).some(([, m]) => m.get('column_id') === id)) return false;
  columnsOf(doc).delete(id);
  return true;
}
