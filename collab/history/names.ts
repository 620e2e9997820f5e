/**
 * How the parts of a chat's history are named. The live part is the Hocuspocus document named by the channel id
 * (the contract); its generations are stored under storage names clients never open. Sealed segments are
 * documents of their own, opened by clients to scroll back: `<channel id>/history/<part>`, part 0 the oldest.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether a document name is a channel id (the live part of a chat, or any other channel's document). */
export const isChannelId = (name: string): boolean => UUID.test(name);

const SEGMENT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/history\/(0|[1-9][0-9]{0,8})$/;

export function segmentName(channelId: string, part: number): string {
  return `${channelId}/history/${part}`;
}

/** Where a generation of a chat's live part is stored (generation 0: under the channel id, as before parts). */
export function generationStorageName(channelId: string, generation: number): string {
  return generation === 0 ? channelId : `${channelId}/live/${generation}`;
}

const GENERATION = /^([0-9a-f-]{36})\/live\/[1-9][0-9]*$/;

/** The document a storage name holds: a chat's live part for any of its generations, else the name itself. */
export function documentNameOf(storageName: string): string {
  return GENERATION.exec(storageName)?.[1] ?? storageName;
}

/** The channel and part a segment's document name names, if it is one. */
export function parseSegmentName(name: string): { channelId: string; part: number } | undefined {
  const match = SEGMENT.exec(name);
  return match ? { channelId: match[1]!, part: Number(match[2]) } : undefined;
}

/** The channel whose content a document name names: the channel id itself, or a segment's channel. */
export function channelOf(name: string): string {
  return parseSegmentName(name)?.channelId ?? name;
}
