import * as Y from 'yjs';
import { placeOf, TransactionView, type Change } from './changes.ts';
import type { ChannelRules, Refusal, RuleInput, Writer } from './rule.ts';

export interface CheckedUpdate {
  /** What the document took of the update (with the server's own fields), to store and relay; null if nothing. */
  applied: Uint8Array | null;
  refusals: Refusal[];
  /** Yjs item ids the applied update created, as [client, first clock, end clock], and deleted as [client, clock, length]. */
  inserted: [number, number, number][];
  deleted: [number, number, number][];
  /** Part of the update waits for content the server does not have yet (the writer must send it again). */
  incomplete: boolean;
}

const undo = (view: TransactionView, change: Change) => {
  if (change.kind === 'set') view.revert(change);
  else if (change.kind === 'insert') change.item.delete(view.tr);
  else view.restore(change.parent, change.item);
};

/**
 * A rule's verdict; a rule that throws (content too odd to read, nesting too deep for the stack) refuses: nothing
 * escapes the transaction unjudged.
 */
function judge(rules: ChannelRules, input: RuleInput): Refusal | undefined {
  try {
    return rules.check(input);
  } catch {
    return { rule: 'shape', reason: 'content that cannot be checked' };
  }
}

/**
 * Applies a client's update to the live document and judges every change it makes against the channel's rules,
 * in one transaction: a refused change is undone inside it (new content deleted, so its content never leaves
 * the server; older content it removed put back as a copy; a map key set back), so the document's one `update`
 * event, the only thing relayed and stored, carries only accepted changes. The writer receives that event too,
 * which deletes its refused content and brings back what it removed: it converges with the server.
 */
export function applyChecked(
  doc: Y.Doc,
  update: Uint8Array,
  writer: Writer,
  rules: ChannelRules,
  origin: unknown,
  /** The client ids whose structs the update carries, when the caller has already read them. */
  clients: number[] = [...Y.parseUpdateMeta(update).to.keys()],
): CheckedUpdate {
  const result: CheckedUpdate = { applied: null, refusals: [], inserted: [], deleted: [], incomplete: false };
  const store = doc.store;
  const hadPending = store.pendingStructs !== null || store.pendingDs !== null;
  const produced: Uint8Array[] = [];
  const collect = (bytes: Uint8Array, from: unknown) => {
    if (from === origin) produced.push(bytes);
  };
  // A root a client wrote first would otherwise be typeless on the server, and the rules could not restore it.
  for (const [name, type] of Object.entries(rules.roots)) doc.get(name, type);
  doc.on('update', collect);
  try {
    doc.transact((tr) => {
      try {
        Y.applyUpdate(doc, update);
      } catch {
        // What was integrated before the failure is judged like the rest; the remainder is not applied.
        result.refusals.push({ rule: 'malformed', reason: 'part of the update could not be applied' });
      }
      // Applying marked the transaction remote; the server also writes in it (its own fields, undoing refused
      // changes) with its own client id, which Yjs would otherwise take for a clash and replace each time.
      tr.local = true;
      if (!hadPending && (store.pendingStructs !== null || store.pendingDs !== null)) {
        // Content that builds on what the server lacks cannot be judged yet: drop it, and the writer is asked
        // to send it again with what it builds on.
        store.pendingStructs = null;
        store.pendingDs = null;
        result.incomplete = true;
      }
      const view = new TransactionView(tr);
      const inputs: RuleInput[] = view
        .changes(clients)
        .map((change) => ({ change, place: placeOf(change.kind === 'set' ? change.map : change.parent), writer, view, doc }));
      if (rules.order) inputs.sort((a, b) => rules.order!(a.change, a.place) - rules.order!(b.change, b.place));
      const accepted: RuleInput[] = [];
      for (const input of inputs) {
        const refusal = judge(rules, input);
        if (!refusal) {
          accepted.push(input);
          continue;
        }
        result.refusals.push(refusal);
        try {
          undo(view, input.change);
        } catch {
          // Only the removal of older content of no shape the server can copy back (left from before the rules,
          // outside every channel's shape) gets here: that removal stands, and nothing escapes the transaction.
        }
      }
      if (accepted.length) rules.stamp?.(accepted);
      Object.assign(result, writtenRanges(tr, [...clients, doc.clientID]));
    }, origin);
  } finally {
    doc.off('update', collect);
  }
  result.applied = produced.length ? (produced.length === 1 ? produced[0]! : Y.mergeUpdates(produced)) : null;
  return result;
}

/** The item ids a transaction so far created (by the given clients) and deleted, for attribution. */
export function writtenRanges(tr: Y.Transaction, clients: number[]): Pick<CheckedUpdate, 'inserted' | 'deleted'> {
  const inserted: CheckedUpdate['inserted'] = [];
  const deleted: CheckedUpdate['deleted'] = [];
  for (const client of new Set(clients)) {
    const start = tr.beforeState.get(client) ?? 0;
    const end = Y.getState(tr.doc.store, client);
    if (end > start) inserted.push([client, start, end]);
  }
  for (const [client, ranges] of Y.mergeDeleteSets([tr.deleteSet]).clients) {
    for (const range of ranges) deleted.push([client, range.clock, range.len]);
  }
  return { inserted, deleted };
}
