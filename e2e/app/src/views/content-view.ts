import type { ChannelInfo } from '../api-types.ts';
import type { OpenChannelDoc } from '../collab/use-channel-doc.ts';

/** What every view of a channel's document gets: the channel, its open document, and an item to show first. */
export interface ContentViewProps {
  channel: ChannelInfo;
  open: OpenChannelDoc;
  /** The id of a message, task or card to scroll to and highlight (a search citation's target). */
  focus: string | null;
}

/** Scrolls the element of the focused item into view once it exists. */
export function focusItem(id: string | null): void {
  if (!id) return;
  requestAnimationFrame(() => {
    const element = document.getElementById(`item-${id}`);
    if (!element) return;
    element.scrollIntoView({ block: 'center' });
    element.classList.add('focused');
    element.focus({ preventScroll: true });
  });
}
