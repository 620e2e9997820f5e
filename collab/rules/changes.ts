import * as Y from 'yjs';

/**
 * What one transaction did to content that existed before it, read from the transaction's own records (the
 * struct ranges it added and its delete set), so the cost follows the size of the change, not of the document.
 *
 * - `set`: a map key of a live, older map now has another value (`after`, undefined when removed) than before.
 * - `insert`: new content in a live, older sequence (array, text, XML); new content nested inside it (a new
 *   message's fields, a new paragraph's text) is part of this one change.
 * - `delete`: older content removed from a live sequence.
 * Changes inside a map or sequence that this transaction created or deleted are not listed apart: the change
 * to its parent covers them.
 */
export type Change =
  | { kind: 'set'; map: Y.AbstractType<any>; key: string; before: Y.Item | undefined; after: Y.Item | undefined }
  | { kind: 'insert'; parent: Y.AbstractType<any>; item: Y.Item }
  | { kind: 'delete'; parent: Y.AbstractType<any>; item: Y.Item };

/** Where a shared type sits: its root's name and the keys (or `null` for a sequence element) down to it. */
export interface Place {
  root: string;
  path: (string | null)[];
}

export class TransactionView {
  readonly tr: Y.Transaction;
  /** The transaction's deletions at the moment the view was made: what the applied update deleted. */
  private readonly deletedByUpdate: ReturnType<typeof Y.mergeDeleteSets>;

  constructor(tr: Y.Transaction) {
    this.tr = tr;
    this.deletedByUpdate = Y.mergeDeleteSets([tr.deleteSet]);
  }

  /** Whether the item existed before this transaction. */
  existedBefore(item: Y.Item): boolean {
    return item.id.clock < (this.tr.beforeState.get(item.id.client) ?? 0);
  }

  /** Whether the item was there to see before this transaction: older, and not deleted before it. */
  visibleBefore(item: Y.Item): boolean {
    return this.existedBefore(item) && (!item.deleted || Y.isDeleted(this.deletedByUpdate, item.id));
  }

  /** Whether a type is older than this transaction and still live. */
  private liveAndOlder(type: Y.AbstractType<any>): boolean {
    const holder = type._item;
    return holder === null || (this.existedBefore(holder) && !holder.deleted);
  }

  /** The changes, from the clients whose structs the update carried (`clients`). */
  changes(clients: Iterable<number>): Change[] {
    const changes: Change[] = [];
    const keys = new Map<Y.AbstractType<any>, Set<string>>();
    const touchKey = (map: Y.AbstractType<any>, key: string) => {
      let set = keys.get(map);
      if (!set) keys.set(map, (set = new Set()));
      set.add(key);
    };
    const store = this.tr.doc.store;
    for (const client of clients) {
      const structs = store.clients.get(client);
      const from = this.tr.beforeState.get(client) ?? 0;
      if (!structs || Y.getState(store, client) <= from) continue;
      for (let i = Y.findIndexSS(structs, from); i < structs.length; i++) {
        const item = structs[i];
        if (!(item instanceof Y.Item) || item.deleted) continue;
        const parent = item.parent as Y.AbstractType<any>;
        if (!this.liveAndOlder(parent)) continue;
        if (item.parentSub !== null) touchKey(parent, item.parentSub);
        else changes.push({ kind: 'insert', parent, item });
      }
    }
    Y.iterateDeletedStructs(this.tr, this.deletedByUpdate, (struct) => {
      if (!(struct instanceof Y.Item) || !this.existedBefore(struct)) return;
      const parent = struct.parent as Y.AbstractType<any>;
      if (!this.liveAndOlder(parent)) return;
      if (struct.parentSub !== null) touchKey(parent, struct.parentSub);
      else changes.push({ kind: 'delete', parent, item: struct });
    });
    for (const [map, set] of keys) {
      for (const key of set) {
        const before = this.itemBefore(map, key);
        const current = map._map.get(key);
        const after = current && !current.deleted ? current : undefined;
        if (before !== after) changes.push({ kind: 'set', map, key, before, after });
      }
    }
    return changes;
  }

  /** The item that held a map key's value before this transaction, if the key had one. */
  itemBefore(map: Y.AbstractType<any>, key: string): Y.Item | undefined {
    let item = map._map.get(key) ?? null;
    while (item && !this.existedBefore(item)) item = item.left;
    return item && this.visibleBefore(item) ? item : undefined;
  }

  /** A map key's value before this transaction, as a fresh copy that can be written again. */
  copyBefore(map: Y.AbstractType<any>, key: string): unknown {
    const item = this.itemBefore(map, key);
    return item ? this.copyContent(item) : undefined;
  }

  /** A copy of an item's content as it was before this transaction (nested types copied deeply). */
  copyContent(item: Y.Item): unknown {
    const content = item.content;
    if (content instanceof Y.ContentAny) return content.getContent()[0];
    if (content instanceof Y.ContentType) return this.copyType(content.type);
    if (content instanceof Y.ContentString) return content.str;
    if (content instanceof Y.ContentBinary) return content.content;
    return undefined;
  }

  private copyType(type: Y.AbstractType<any>): unknown {
    if (type instanceof Y.Map) {
      const copy = new Y.Map<unknown>();
      for (const key of type._map.keys()) {
        const value = this.copyBefore(type, key);
        if (value !== undefined) copy.set(key, value);
      }
      return copy;
    }
    if (type instanceof Y.Text) {
      let text = '';
      for (let item = type._start; item; item = item.right) {
        if (item.content instanceof Y.ContentString && this.visibleBefore(item)) text += item.content.str;
      }
      return new Y.Text(text);
    }
    if (type instanceof Y.Array) {
      const values: unknown[] = [];
      for (let item = type._start; item; item = item.right) {
        if (item.countable && this.visibleBefore(item)) {
          if (item.content instanceof Y.ContentType) values.push(this.copyType(item.content.type));
          else values.push(...item.content.getContent());
        }
      }
      return Y.Array.from(values as never[]);
    }
    throw new Error(`cannot copy a ${type.constructor.name}`);
  }

  /** Puts back older content the update deleted from a sequence, as a copy at the same place. */
  restore(parent: Y.AbstractType<any>, item: Y.Item): void {
    const index = visibleIndexOf(parent, item);
    if (parent instanceof Y.Text) {
      parent.insert(index, this.copyContent(item) as string);
    } else if (parent instanceof Y.Array) {
      const content = item.content;
      const values = content instanceof Y.ContentType ? [this.copyType(content.type)] : content.getContent();
      parent.insert(index, values as never[]);
    } else {
      throw new Error(`cannot restore into a ${parent.constructor.name}`);
    }
  }

  /** Undoes a map key's change: the value it had before comes back (as a copy), or the key goes. */
  revert(change: Extract<Change, { kind: 'set' }>): void {
    const { map, key, before } = change;
    if (change.after && !this.existedBefore(change.after)) change.after.delete(this.tr);
    if (before?.deleted && map instanceof Y.Map) map.set(key, this.copyContent(before));
  }
}

/** How many visible elements (characters, for text) come before an item in its sequence. */
function visibleIndexOf(parent: Y.AbstractType<any>, target: Y.Item): number {
  let index = 0;
  for (let item = parent._start; item && item !== target; item = item.right) {
    if (item.countable && !item.deleted) index += item.length;
  }
  return index;
}

/** Where a shared type sits in its document. */
export function placeOf(type: Y.AbstractType<any>): Place {
  const path: (string | null)[] = [];
  let current = type;
  while (current._item) {
    path.unshift(current._item.parentSub);
    current = current._item.parent as Y.AbstractType<any>;
  }
  return { root: Y.findRootTypeKey(current), path };
}

/** A map item's value: a primitive, or the nested type. */
export function valueOf(item: Y.Item | undefined): unknown {
  if (!item) return undefined;
  const content = item.content;
  if (content instanceof Y.ContentType) return content.type;
  if (content instanceof Y.ContentAny) return content.getContent()[0];
  return content;
}
