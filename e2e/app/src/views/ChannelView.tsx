// A channel: its header and tabs, then the view of its type. Documents open here, and views stay read-only until
// the device's copy or the server's has arrived (nothing is ever seeded on the client).
import type { ComponentType } from 'react';
import { useResource } from '../api.ts';
import type { ChannelInfo, ChannelKind } from '../api-types.ts';
import { useChannelDoc } from '../collab/use-channel-doc.ts';
import { nameOf, usePeople } from '../people.ts';
import { currentUser } from '../session.ts';
import { ErrorLine } from '../ui/Form.tsx';
import { kindIcon, kindName } from '../ui/kinds.ts';
import { Link } from '../ui/Link.tsx';
import { Refusals } from '../ui/Refusals.tsx';
import type { ContentViewProps } from './content-view.ts';
import { SummarizeAction } from './ai/SummarizeAction.tsx';
import { CallArea } from './call/CallArea.tsx';
import { TasksView } from './TasksView.tsx';
import { ChatView } from './ChatView.tsx';
import { FilesView } from './FilesView.tsx';
import { lazy } from 'react';
import { BoardView } from './BoardView.tsx';
import { ChannelSettings } from './ChannelSettings.tsx';

// Tiptap comes with the page view only, not in the shell.
const PageView = lazy(() => import('./PageView.tsx'));

const contentViews: Partial<Record<ChannelKind, ComponentType<ContentViewProps>>> = {
  TODO: TasksView,
  TEXT: ChatView,
  DM: ChatView,
  DOC: PageView,
  KANBAN: BoardView,
};

function DocumentArea({ channel, focus }: { channel: ChannelInfo; focus: string | null }) {
  const open = useChannelDoc(channel.id);
  const View = contentViews[channel.type];
  if (!View) return <p>This kind of channel cannot be shown here.</p>;
  if (!open || !open.channelDoc.ready) {
    return (
      <p aria-busy="true" data-testid="loading">
        {open?.state.closedBecause ? `Cannot open this channel: ${open.state.closedBecause}` : 'Opening… (waiting for this device’s copy or the server)'}
      </p>
    );
  }
  return (
    <>
      <Refusals channelDoc={open.channelDoc} state={open.state} />
      {/* What the connection was told last, else what the channel said when it was fetched. */}
      {(open.state.archived ?? channel.archived_at !== null) ? (
        <p className="archived-note" role="status">This channel is archived: everyone can read it, no one can change it.</p>
      ) : open.state.readOnly && <p className="muted">You can read this channel but not change it (viewer).</p>}
      <View channel={channel} open={open} focus={focus} />
    </>
  );
}

export function ChannelView({ channelId, tab, focus }: { channelId: string; tab: 'content' | 'files'; focus: string | null }) {
  const channel = useResource<ChannelInfo>(`/api/channels/${channelId}`);
  const people = usePeople();
  const me = currentUser();
  if (!channel.data) return channel.error ? <ErrorLine error={channel.error} /> : <p aria-busy="true">Loading…</p>;
  const c = channel.data;
  const title = c.type === 'DM' ? nameOf(people, c.participant_ids?.find((id) => id !== me?.id) ?? me?.id) : c.name;
  return (
    <article aria-label={title} className={`channel channel-${c.type.toLowerCase()}`}>
      <header className="channel-header">
        <h1><span aria-hidden="true">{kindIcon[c.type]}</span> {title} <span className="muted">{kindName[c.type]}</span></h1>
        {c.archived_at && <span className="muted">(archived)</span>}
        <SummarizeAction channel={c} />
        {c.type !== 'VOICE' && (
          <nav aria-label="Channel sections" className="tabs">
            <Link href={`/channels/${c.id}`} aria-current={tab === 'content' ? 'page' : undefined}>{kindName[c.type]}</Link>
            <Link href={`/channels/${c.id}/files`} aria-current={tab === 'files' ? 'page' : undefined}>Files</Link>
          </nav>
        )}
      </header>
      {c.description && <p className="muted">{c.description}</p>}
      <ChannelSettings channel={c} />
      {tab === 'content' && (c.type === 'VOICE' ? <CallArea channel={c} /> : <DocumentArea channel={c} focus={focus} />)}
      {tab === 'files' && <FilesView channel={c} focus={focus} />}
    </article>
  );
}
