import * as Y from 'yjs';

/**
 * Chat messages by id, kept for each document by an observer on its `messages` array: built once when first
 * asked for, then updated by each change (proportional to the change), so finding a message by id does not scan
 * the history.
 */
const indexes = new WeakMap<Y.Doc, Map<string, Y.Map<unknown>>>();

function idOf(value: unknown): string | undefined {
  if (!(value instanceof Y.Map)) return undefined;
  const id = value.get('id');
  return typeof id === 'string' ? id : undefined;
}

/** The id → message map of a chat document. The first message with an id wins, as readers see it. */
export function messageIndex(doc: Y.Doc): ReadonlyMap<string, Y.Map<unknown>> {
  const existing = indexes.get(doc);
  if (existing) return existing;
  const built = new Map<string, Y.Map<unknown>>();
  // A removed message's fields are gone by the time the observer runs, so its id is remembered here.
  const ids = new WeakMap<Y.Map<unknown>, string>();
  const add = (value: unknown) => {
    const id = idOf(value);
    if (id === undefined || built.has(id)) return;
    built.set(id, value as Y.Map<unknown>);
    ids.set(value as Y.Map<unknown>, id);
  };
  const messages = doc.getArray<unknown>('messages');
  for (const value of messages) add(value);
  messages.observe((event) => {
    for (const item of event.changes.deleted) {
      const value = item.content.getContent()[0] as Y.Map<unknown>;
      const id = ids.get(value);
      if (id !== undefined && built.get(id) === value) built.delete(id);
    }
    for (const item of event.changes.added) item.content.getContent().forEach(add);
  });
  indexes.set(doc, built);
  return built;
}
