import type { Connection, Document, Extension } from '@hocuspocus/server';
import type pg from 'pg';
import { Counter, type Registry } from 'prom-client';
import * as Y from 'yjs';
import type { AccessCache, Logger } from '../../core/index.ts';
import { applyChecked, rulesByChannelType, segmentRules, type CheckedUpdate, type Refusal } from '../rules/index.ts';
import { livePartOf, storageNameOf } from '../history/live-parts.ts';
import { sealedIdsNamedIn } from '../history/sealed-ids.ts';
import { messageIndex } from '../shapes/message-index.ts';
import type { CollabContext } from './access.ts';
import { askForMissing } from './sync-messages.ts';

/** What a connection's update became: the part the document took, and who wrote it. */
export interface AcceptedWrite extends CheckedUpdate {
  applied: Uint8Array;
  userId: string;
  /** Yjs client ids this update used for the first time in the document (now owned by its writer). */
  newClients: number[];
}

/** The message a client receives (as a Hocuspocus stateless message) when the server refused part of its update. */
export interface RefusedNotice {
  type: 'refused';
  document: string;
  refusals: (Refusal & { count: number })[];
}

/** Where an update comes from: a client's connection, or the server writing for a user (`applyAs`). */
interface Source {
  document: Document;
  context: CollabContext;
  origin: unknown;
  readOnly(): boolean;
  tell(notice: RefusedNotice): void;
  askForMissing(): void;
}

export interface WriteRules extends Extension {
  /**
   * Applies a connection's update to the live document under its channel's write rules, and makes the update
   * Hocuspocus is about to apply empty (it is applied here, in one transaction with the checks). Returns what was
   * accepted, to store, or nothing. `live`: the update is one the client just made (a sync update, not the
   * reply to a sync step 1), so the new client ids it writes with are the writer's own.
   */
  apply(connection: Connection<CollabContext>, payload: Uint8Array, live: boolean): Promise<AcceptedWrite | undefined>;
  /**
   * Applies an update the server made for a user (what a client of an older generation of a chat's live part had
   * not saved: history/replay.ts) under the same rules, as if that user had sent it live. The refusals are
   * returned, not sent.
   */
  applyAs(document: Document, context: CollabContext, update: Uint8Array): Promise<{
    accepted: AcceptedWrite | undefined;
    refusals: RefusedNotice['refusals'];
  }>;
}

/** Turns a received update into one that applies nothing: no structs, no deletions (trailing bytes are ignored). */
function neutralize(payload: Uint8Array): void {
  payload[0] = 0;
  payload[1] = 0;
}

/**
 * The server-side write rules (see collab/rules): every update a client sends is applied by this extension, under
 * its channel type's rules, before Hocuspocus would apply it. Refused changes are undone in the same transaction,
 * the writer is told why (`RefusedNotice`), and the refusal is counted and logged once per update.
 */
export function writeRules(pool: pg.Pool, access: AccessCache, log: Logger, registry: Registry): WriteRules {
  const refused = new Counter({
    name: 'collab_refused_changes_total',
    help: 'Changes to documents refused by the write rules, by rule',
    labelNames: ['rule'],
    registers: [registry],
  });
  const updates = new Counter({
    name: 'collab_updates_total', help: 'Client updates the documents took (whole or in part)', registers: [registry],
  });
  const updateBytes = new Counter({
    name: 'collab_update_bytes_total', help: 'Bytes of what the documents took of client updates', registers: [registry],
  });
  // Per loaded document: the owner of each Yjs client id seen so far, and the users who may be named in it.
  const owners = new Map<string, Map<number, string | null>>();
  const readers = new Map<string, Promise<Set<string>>>();
  const stopListening = access.onChange(() => readers.clear());

  async function ownerOf(document: Document, client: number): Promise<string | null | undefined> {
    let known = owners.get(document.name);
    if (!known) owners.set(document.name, (known = new Map()));
    if (known.has(client)) return known.get(client);
    const { rows } = await pool.query<{ user_id: string | null }>(
      'SELECT user_id FROM document_clients WHERE document_name = $1 AND client_id = $2',
      [storageNameOf(document), client],
    );
    if (rows[0] && !known.has(client)) known.set(client, rows[0].user_id);
    return known.get(client);
  }

  function readersOf(documentName: string, context: CollabContext): Promise<Set<string>> {
    let found = readers.get(documentName);
    if (!found) {
      const query = context.groupId
        ? pool.query<{ user_id: string }>('SELECT user_id FROM memberships WHERE group_id = $1', [context.groupId])
        : pool.query<{ user_id: string }>('SELECT user_id FROM dm_participants WHERE channel_id = $1', [documentName]);
      found = query.then(({ rows }) => new Set(rows.map((r) => r.user_id)));
      found.catch(() => readers.delete(documentName));
      readers.set(documentName, found);
    }
    return found;
  }

  /**
   * The client ids an update carries structs of, and of those that it writes new structs for: `fresh` ones no one
   * owns yet (the writer's from now on), and `foreign` ones that belong to someone else (or to the server).
   */
  async function clientsOf({ document, context }: Source, payload: Uint8Array) {
    const fresh: number[] = [];
    const foreign: number[] = [];
    const carried: number[] = [];
    for (const [client, end] of Y.parseUpdateMeta(payload).to) {
      carried.push(client);
      if (end <= Y.getState(document.store, client)) continue;
      const owner = client === document.clientID ? null : await ownerOf(document, client);
      if (owner === undefined) fresh.push(client);
      else if (owner !== context.userId) foreign.push(client);
    }
    return { fresh, foreign, carried };
  }

  function notify(source: Source, refusals: Refusal[]): void {
    const counted = new Map<string, Refusal & { count: number }>();
    for (const refusal of refusals) {
      refused.inc({ rule: refusal.rule });
      const key = `${refusal.rule}\u0000${refusal.reason}`;
      const entry = counted.get(key);
      if (entry) entry.count++;
      else counted.set(key, { ...refusal, count: 1 });
    }
    const notice: RefusedNotice = { type: 'refused', document: source.document.name, refusals: [...counted.values()] };
    log.info(
      { document: notice.document, user_id: source.context.userId, refusals: notice.refusals },
      'changes refused by the write rules',
    );
    source.tell(notice);
  }

  /** Applies an update under the rules for its source; see `WriteRules.apply`. */
  async function judged(source: Source, payload: Uint8Array, live: boolean): Promise<AcceptedWrite | undefined> {
    const { context, document } = source;
    const rules = context.segment === null ? rulesByChannelType[context.channelType] : segmentRules;
    if (!rules) return undefined;
    // A live part that has been rolled over has sealed segments, whose message ids a new message may name.
    const hasSegments = (livePartOf(document)?.generation ?? 0) > 0;
    const [clients, names, sealedIds] = await Promise.all([
      clientsOf(source, payload),
      context.channelType === 'TODO' ? readersOf(document.name, context) : Promise.resolve(new Set<string>()),
      hasSegments ? sealedIdsNamedIn(pool, context.channelId, payload) : undefined,
    ]);
    // Access may have changed while the lookups ran: a connection made read-only since applies nothing.
    if (source.readOnly()) return undefined;
    let update: Uint8Array = payload.slice();
    neutralize(payload);
    const refusals: Refusal[] = [];
    if (clients.foreign.length) {
      // Structs under someone else's client id are left out (two writers on one id would make Yjs drop one's
      // edits as duplicates); the rest of the update stands. An honest client sends them only when it relays
      // content the server lost, which their owner sends again.
      const everything = new Map(clients.foreign.map((client) => [client, Number.MAX_SAFE_INTEGER]));
      update = Y.diffUpdate(update, Y.encodeStateVector(everything));
      refusals.push({ rule: 'client.id', reason: "content under another person's Yjs client id is not taken" });
    }
    // Built before the first transaction is judged, so during one it holds the state before it.
    if (context.channelType === 'TEXT' || context.channelType === 'DM') messageIndex(document);
    const writer = { userId: context.userId, role: context.role, readers: names, now: Date.now(), sealedIds };
    const carried = clients.carried.filter((client) => !clients.foreign.includes(client));
    const checked = applyChecked(document, update, writer, rules, source.origin, carried);
    refusals.push(...checked.refusals);
    if (refusals.length) notify(source, refusals);
    // Asked again for what the incomplete part builds on, unless that was content left out above (it would
    // come back, and be left out, again).
    if (checked.incomplete && !clients.foreign.length) source.askForMissing();
    if (!checked.applied) return undefined;
    const owned = owners.get(document.name) ?? new Map<number, string | null>();
    owners.set(document.name, owned);
    // Only a live update claims its new client ids: a sync reply may relay others' content the server lost
    // (an instance dying after relaying an update, before storing it), whose client id is not the sender's.
    const newClients = live ? clients.fresh.filter((client) => !owned.has(client)) : [];
    for (const client of newClients) owned.set(client, context.userId);
    return { ...checked, applied: checked.applied, userId: context.userId, newClients };
  }

  return {
    extensionName: 'write-rules',

    async apply(connection, payload, live) {
      const accepted = await judged({
        document: connection.document, context: connection.context, origin: { source: 'connection', connection },
        readOnly: () => connection.readOnly, tell: (notice) => connection.sendStateless(JSON.stringify(notice)),
        askForMissing: () => askForMissing(connection),
      }, payload, live);
      if (accepted) {
        updates.inc();
        updateBytes.inc(accepted.applied.length);
      }
      return accepted;
    },

    async applyAs(document, context, update) {
      const refusals: RefusedNotice['refusals'] = [];
      const accepted = await judged({
        document, context, origin: { source: 'local' }, readOnly: () => false,
        tell: (notice) => refusals.push(...notice.refusals), askForMissing: () => {},
      }, update, true);
      return { accepted, refusals };
    },

    async afterUnloadDocument({ documentName }) {
      owners.delete(documentName);
      readers.delete(documentName);
    },

    async onDestroy() {
      stopListening();
    },
  };
}
