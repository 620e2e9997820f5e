// The call view, loaded when a VOICE channel is opened: mediasoup-client comes with it, not with the shell.
import { lazy, Suspense } from 'react';
import type { ChannelInfo } from '../../api-types.ts';

const CallView = lazy(() => import('../CallView.tsx'));

/** A VOICE channel has no document to open: its content is the call. */
export function CallArea({ channel }: { channel: ChannelInfo }) {
  return (
    <Suspense fallback={<p aria-busy="true">Loading the call…</p>}>
      <CallView channel={channel} />
    </Suspense>
  );
}
