import * as Y from 'yjs';
import type { Role } from '../../core/index.ts';
import type { Change, Place, TransactionView } from './changes.ts';

/** Who sent an update, as the server knows it (never as the document claims). */
export interface Writer {
  userId: string;
  role: Role;
  /** The users who may be named in this channel's content: the group's members, or the DM's two participants. */
  readers: ReadonlySet<string>;
  /** The server's clock when the update arrived (ms). */
  now: number;
  /** Chat: the message ids the update names that the channel holds in sealed history segments. */
  sealedIds?: ReadonlySet<string>;
}

/** Why a change was refused: `rule` is stable (for metrics and code), `reason` is for people. */
export interface Refusal {
  rule: string;
  reason: string;
}

export interface RuleInput {
  change: Change;
  /** Where the changed map or sequence sits. */
  place: Place;
  writer: Writer;
  view: TransactionView;
  doc: Y.Doc;
}

/** The write rules of one channel type. */
export interface ChannelRules {
  /** The document's top-level types, made with their types before a client's update is applied. */
  roots: Record<string, typeof Y.Map | typeof Y.Array | typeof Y.XmlFragment>;
  /** Judges one change against the document after the update; a refusal undoes it. */
  check(input: RuleInput): Refusal | undefined;
  /** Sorts changes that must be judged in a given order (lower first); the default keeps their order. */
  order?(change: Change, place: Place): number;
  /** Writes the server's own fields for the accepted changes, in the same transaction. */
  stamp?(accepted: RuleInput[]): void;
}

export const refuse = (rule: string, reason: string): Refusal => ({ rule, reason });

/** Whether an ISO-8601 time claimed by a client is readable and not later than the server's clock allows. */
export function plausibleTime(value: unknown, now: number, skewMs: number): value is string {
  if (typeof value !== 'string' || value.length > 40) return false;
  const at = Date.parse(value);
  return Number.isFinite(at) && at <= now + skewMs && at >= Date.UTC(2000, 0, 1);
}
