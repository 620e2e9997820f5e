// The open channel documents on `globalThis.teamspace`, for devtools and for tests that play a script in the page
// (e.g. one editing someone else's message, which the server must refuse): `teamspace.docs.get(name)` is the
// ChannelDoc of a channel (or a history segment, `<channel id>/history/<n>`), `teamspace.shapes` the helpers that
// write what the write rules accept.
import type { ChannelDoc } from './channel-doc.ts';
import * as shapes from '../shapes.ts';

const docs = new Map<string, ChannelDoc>();
(globalThis as { teamspace?: unknown }).teamspace = { docs, shapes };

/** Lists the document on `teamspace.docs` while it is open. */
export function exposeOpenDoc(doc: ChannelDoc): () => void {
  docs.set(doc.name, doc);
  return () => {
    if (docs.get(doc.name) === doc) docs.delete(doc.name);
  };
}
