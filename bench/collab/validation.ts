// What the write rules cost per update, measured directly (no server, no network): a chat channel's document of
// a given size judges updates of new, valid messages with `applyChecked`, exactly as collab/extensions/write-rules.ts
// calls it. The claim to show: the cost follows the update, not the document.
import * as Y from 'yjs';
import { applyChecked, rulesByChannelType, type Writer } from '../../collab/rules/index.ts';
import { chat } from '../../collab/shapes/index.ts';
import { messageIndex } from '../../collab/shapes/message-index.ts';
import { percentile, round } from '../shared/stats.ts';

const authors = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b'] as const;
const writer = (now: number): Writer => ({ userId: authors[0], role: 'member', readers: new Set(authors), now });
/** A document may grow this much past its size while measured; then it is rebuilt at its size. */
const GROWTH = 0.2;

export interface ValidationCost {
  /** Messages in the channel's document. */
  messages: number;
  /** New messages in each judged update. */
  per_update: number;
  repetitions: number;
  update_bytes: number;
  /** `applyChecked` of one update (apply + judge + stamp, in one transaction), µs. */
  median_us: number;
  p99_us: number;
  /** The same updates applied by plain `Y.applyUpdate` to a copy of the document, without rules, µs. */
  plain_median_us: number;
  plain_p99_us: number;
}

/** A chat document of `count` messages, as its clients wrote them, with the server's received_at. */
function chatDocument(count: number): Uint8Array {
  const doc = new Y.Doc();
  doc.transact(() => {
    for (let i = 0; i < count; i++) chat.writeMessage(doc, { author_id: authors[i % 2]!, text: `message ${i} of the channel's history` });
  });
  return Y.encodeStateAsUpdate(doc);
}

/**
 * Times `repetitions` updates of `perUpdate` new messages each (after `warmup` untimed ones) against a document of
 * `messages` messages. Each update is written by a client holding the document, as a provider sends it.
 */
export function validationCost(messages: number, perUpdate: number, repetitions: number, warmup = 50): ValidationCost {
  const base = chatDocument(messages);
  let server!: Y.Doc;
  let plain!: Y.Doc;
  let client!: Y.Doc;
  const reset = () => {
    server = new Y.Doc();
    plain = new Y.Doc();
    client = new Y.Doc();
    for (const doc of [server, plain, client]) Y.applyUpdate(doc, base);
    // The write-rules extension builds the index once per loaded document, before the first update it judges.
    messageIndex(server);
  };
  reset();
  const rules = rulesByChannelType.TEXT!;
  const checked: number[] = [];
  const unchecked: number[] = [];
  let bytes = 0;
  for (let i = 0; i < warmup + repetitions; i++) {
    if (server.getArray('messages').length + perUpdate > messages * (1 + GROWTH)) reset();
    let update: Uint8Array | undefined;
    const take = (u: Uint8Array) => (update = u);
    client.once('update', take);
    client.transact(() => {
      for (let k = 0; k < perUpdate; k++) chat.writeMessage(client, { author_id: authors[0], text: `new message ${i}.${k}` });
    });
    const t0 = performance.now();
    const result = applyChecked(server, update!, writer(Date.now()), rules, 'bench');
    const t1 = performance.now();
    Y.applyUpdate(plain, update!);
    const t2 = performance.now();
    if (result.refusals.length || !result.applied) {
      throw new Error(`validation bench: a valid message was refused (${JSON.stringify(result.refusals)})`);
    }
    if (i >= warmup) {
      checked.push((t1 - t0) * 1000);
      unchecked.push((t2 - t1) * 1000);
      bytes = update!.length;
    }
  }
  checked.sort((a, b) => a - b);
  unchecked.sort((a, b) => a - b);
  return {
    messages, per_update: perUpdate, repetitions, update_bytes: bytes,
    median_us: round(percentile(checked, 0.5), 1), p99_us: round(percentile(checked, 0.99), 1),
    plain_median_us: round(percentile(unchecked, 0.5), 1), plain_p99_us: round(percentile(unchecked, 0.99), 1),
  };
}
