import type { Connection, Document, Extension } from '@hocuspocus/server';
import * as encoding from 'lib0/encoding';
import type { Logger } from '../../core/index.ts';
import type { CollabContext } from './access.ts';
import type { RefusedNotice } from './write-rules.ts';

export interface PresenceLimits {
  /** Largest presence state a client may send, as UTF-8 JSON bytes. */
  maxBytes: number;
  /** States per second per connection (bursts of as many); a user's connections to one document share twice that. */
  perSecond: number;
}

/** A provider has one awareness client id per document; a few spare cover reconnects that reuse the connection. */
const maxClientsPerConnection = 4;

type State = Record<string, unknown>;

interface Bucket {
  tokens: number;
  at: number;
}

/** Token bucket: refills at `rate` per second up to `rate` (so bursts are one second's worth). */
function refill(bucket: Bucket, rate: number, now: number): void {
  bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
  bucket.at = now;
}

interface Sender {
  bucket: Bucket;
  user: { bucket: Bucket; connections: number };
  owned: Set<number>;
  /** The latest state per client id that the rate held back, sent when the rate allows. */
  held: Map<number, State>;
  timer?: NodeJS.Timeout;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The server's word on who a state belongs to: top-level `user_id`, and `user.id`/`user.name` from the verified
 * account, whatever the client wrote there. Of the client's `user` only a short `color` is kept, so nothing else
 * under `user` is the client's invention.
 */
function stamp(state: State, context: CollabContext): void {
  const claimed = state.user;
  const color = isRecord(claimed) && typeof claimed.color === 'string' && claimed.color.length <= 32
    ? claimed.color
    : undefined;
  state.user = { ...(color === undefined ? {} : { color }), id: context.userId, name: context.displayName };
  state.user_id = context.userId;
}

/**
 * Hocuspocus (4.7) decodes each awareness message into a scratch Awareness whose own local state, `{}` with clock 0,
 * comes first in `states`: no one's presence (the document ignores clock 0), so it must not claim a client id slot,
 * use the rate or be held and sent later as if it were real.
 */
function dropScratchState(states: Map<number, State>): void {
  const [first] = states;
  if (first && Object.keys(first[1]).length === 0) states.delete(first[0]);
}

/** One awareness entry (client id, clock, state), the y-protocols wire format. */
function awarenessUpdate(clientId: number, clock: number, state: State): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 1);
  encoding.writeVarUint(e, clientId);
  encoding.writeVarUint(e, clock);
  encoding.writeVarString(e, JSON.stringify(state));
  return encoding.toUint8Array(e);
}

/**
 * Presence (awareness) rules, for every connection, viewers included:
 * - a connection may set only client ids it announced first (no one can pose as, or erase, someone else), and at
 *   most a few of them;
 * - a state larger than `maxBytes` is dropped, and the sender told with a stateless `refused` notice (rule
 *   `presence.size`, or `presence.clients` for a client id too many);
 * - states beyond the rate are not relayed at once: the latest one per client id is held and sent when the rate
 *   allows, so a flood reaches others as a trickle while the final cursor position still arrives;
 * - each state is stamped with the user's id and verified display name.
 * Nothing here closes a connection; the per-connection message rate in `limits` does that for a real flood.
 */
export function presence(cfg: PresenceLimits, log: Logger): Extension<CollabContext> {
  const senders = new WeakMap<Connection, Sender>();
  const owners = new Map<string, Map<number, Connection>>();
  const users = new Map<string, Sender['user']>();
  const userRate = cfg.perSecond * 2;

  function senderOf(connection: Connection<CollabContext>, documentName: string): Sender {
    let sender = senders.get(connection);
    if (sender) return sender;
    const now = Date.now();
    const userKey = `${documentName}\0${connection.context.userId}`;
    let user = users.get(userKey);
    if (!user) users.set(userKey, (user = { bucket: { tokens: userRate, at: now }, connections: 0 }));
    user.connections++;
    sender = { bucket: { tokens: cfg.perSecond, at: now }, user, owned: new Set(), held: new Map() };
    senders.set(connection, sender);
    const documentOwners = owners.get(documentName);
    const done = sender;
    connection.onClose(() => {
      clearTimeout(done.timer);
      done.held.clear();
      for (const clientId of done.owned) {
        if (documentOwners?.get(clientId) === connection) documentOwners.delete(clientId);
      }
      if (--done.user.connections === 0) users.delete(userKey);
    });
    return sender;
  }

  /** Milliseconds until both the connection's and the user's buckets hold a state's worth (0: now). */
  function wait(sender: Sender): number {
    const now = Date.now();
    refill(sender.bucket, cfg.perSecond, now);
    refill(sender.user.bucket, userRate, now);
    const ms = Math.max((1 - sender.bucket.tokens) / cfg.perSecond, (1 - sender.user.bucket.tokens) / userRate) * 1000;
    return ms > 0 ? Math.ceil(ms) : 0;
  }

  function take(sender: Sender): void {
    sender.bucket.tokens -= 1;
    sender.user.bucket.tokens -= 1;
  }

  function sendHeld(sender: Sender, connection: Connection, document: Document): void {
    sender.timer = undefined;
    if (!document.hasConnection(connection)) return;
    for (const [clientId, state] of sender.held) {
      const ms = wait(sender);
      if (ms) {
        sender.timer = setTimeout(() => sendHeld(sender, connection, document), ms);
        return;
      }
      take(sender);
      sender.held.delete(clientId);
      // Past the server's clock for this client and not past the client's own: the held state was newer than
      // anything relayed, and whatever the client sends next is newer still.
      const clock = (document.awareness.meta.get(clientId)?.clock ?? 0) + 1;
      document.applyAwarenessUpdate(connection, awarenessUpdate(clientId, clock, state));
    }
  }

  /** Tells the sender, in the write rules' notice format, so clients read one kind of refusal. */
  function refuse(connection: Connection, rule: string, reason: string): void {
    const notice: RefusedNotice = {
      type: 'refused', document: connection.document.name, refusals: [{ rule, reason, count: 1 }],
    };
    connection.sendStateless(JSON.stringify(notice));
  }

  return {
    extensionName: 'presence',

    async beforeHandleAwareness({ states, connection, documentName, document }) {
      // Awareness relayed from other instances (Redis) has no connection: those instances applied these rules.
      if (!connection) return;
      let documentOwners = owners.get(documentName);
      if (!documentOwners) owners.set(documentName, (documentOwners = new Map()));
      const sender = senderOf(connection, documentName);
      dropScratchState(states);
      // A copy: accepted states are put back into `states`, which iterating it directly would visit again.
      for (const [clientId, state] of [...states]) {
        states.delete(clientId);
        const owner = documentOwners.get(clientId);
        if (owner && owner !== connection) continue;
        if (!owner && sender.owned.size >= maxClientsPerConnection) {
          refuse(connection, 'presence.clients', `a connection may show at most ${maxClientsPerConnection} clients`);
          continue;
        }
        const bytes = Buffer.byteLength(JSON.stringify(state));
        if (bytes > cfg.maxBytes) {
          log.debug({ document: documentName, user_id: connection.context.userId, bytes }, 'presence state too large');
          refuse(connection, 'presence.size', `a presence state may be at most ${cfg.maxBytes} bytes`);
          continue;
        }
        if (!owner) {
          documentOwners.set(clientId, connection);
          sender.owned.add(clientId);
        }
        stamp(state, connection.context);
        if (!sender.held.size && !wait(sender)) {
          take(sender);
          states.set(clientId, state);
          continue;
        }
        // Replaces any state held before for this id: only the latest is worth sending.
        sender.held.set(clientId, state);
        sender.timer ??= setTimeout(() => sendHeld(sender, connection, document), wait(sender));
      }
    },

    async afterUnloadDocument({ documentName }) {
      owners.delete(documentName);
    },
  };
}
