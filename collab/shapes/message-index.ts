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
  // From the transaction's own records (its new structs and its delete set), not `event.changes`: Yjs computes
  // that by walking the whole array, which would make every message cost the length of the history.
  messages.observe((_event, tr) => {
    forEachStruct(tr, tr.deleteSet.clients, (item) => {
      if (item.parent !== messages || item.parentSub !== null) return;
      for (const value of item.content.getContent()) {
        const id = ids.get(value as Y.Map<unknown>);
        if (id !== undefined && built.get(id) === value) built.delete(id);
      }
    });
    forEachStruct(tr, newStructs(tr), (item) => {
      if (item.parent === messages && item.parentSub === null && !item.deleted) item.content.getContent().forEach(add);
    });
  });
  indexes.set(doc, built);
  return built;
}

type Ranges = Map<number, { clock: number; len: number }[]>;

/** The clock ranges of the structs a transaction added. */
function newStructs(tr: Y.Transaction): Ranges {
  const ranges: Ranges = new Map();
  for (const [client, after] of tr.afterState) {
    const before = tr.beforeState.get(client) ?? 0;
    if (after > before) ranges.set(client, [{ clock: before, len: after - before }]);
  }
  return ranges;
}

/** Calls `f` with each item in the ranges, without splitting any (unlike `Y.iterateDeletedStructs`). */
function forEachStruct(tr: Y.Transaction, ranges: Ranges, f: (item: Y.Item) => void): void {
  for (const [client, list] of ranges) {
    const structs = tr.doc.store.clients.get(client);
    if (!structs) continue;
    for (const { clock, len } of list) {
      if (clock >= Y.getState(tr.doc.store, client)) continue;
      for (let i = Y.findIndexSS(structs, clock); i < structs.length && structs[i]!.id.clock < clock + len; i++) {
        const struct = structs[i]!;
        if (struct instanceof Y.Item) f(struct);
      }
    }
  }
}
