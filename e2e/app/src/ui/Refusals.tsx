// Changes the server refused (write rules) are undone on every copy: this says so, so nothing vanishes silently.
import type { ChannelDoc, ChannelDocState } from '../collab/channel-doc.ts';

export function Refusals({ channelDoc, state }: { channelDoc: ChannelDoc; state: ChannelDocState }) {
  if (!state.refusals.length && !state.closedBecause) return null;
  return (
    <div className="refusals" role="alert" data-testid="refusals">
      {state.closedBecause && <p>The server closed this channel's connection: {state.closedBecause}</p>}
      {state.refusals.length > 0 && (
        <>
          <p>The server refused {state.refusals.length === 1 ? 'a change' : 'some changes'}; {state.refusals.length === 1 ? 'it was' : 'they were'} undone:</p>
          <ul>
            {state.refusals.map((r, i) => (
              <li key={i} data-rule={r.rule}>{r.reason}{r.count > 1 ? ` (${r.count}×)` : ''}</li>
            ))}
          </ul>
          <button type="button" onClick={() => channelDoc.dismissRefusals()}>Dismiss</button>
        </>
      )}
    </div>
  );
}
