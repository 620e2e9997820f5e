// A group channel's settings, for owners and admins: name and description, archive or unarchive; owners also delete
// it, after typing its name. The server enforces who may do what; this shows only what the caller's role allows.
import { api, invalidate, post, useResource } from '../api.ts';
import type { ChannelInfo, GroupInfo } from '../api-types.ts';
import { navigate } from '../router.ts';
import { useAttempt } from '../ui/attempt.ts';
import { ErrorLine } from '../ui/Form.tsx';
import { RenameForm } from '../ui/RenameForm.tsx';
import { TypedConfirm } from '../ui/TypedConfirm.tsx';

export function ChannelSettings({ channel }: { channel: ChannelInfo }) {
  const group = useResource<GroupInfo>(channel.group_id ? `/api/groups/${channel.group_id}` : null);
  const { error, attempt } = useAttempt();
  const role = group.data?.role;
  if (!channel.group_id || (role !== 'owner' && role !== 'admin')) return null;
  const changed = () => {
    invalidate(`/api/channels/${channel.id}`);
    invalidate(`/api/groups/${channel.group_id}/channels`);
  };
  const archived = channel.archived_at !== null;
  return (
    <details className="channel-settings">
      <summary>Channel settings</summary>
      <ErrorLine error={error} />
      <RenameForm what="channel" current={channel} maxName={80} onSave={(naming) =>
        void attempt(() => api('PATCH', `/api/channels/${channel.id}`, naming), changed)}
      />
      <p>
        <button type="button" onClick={() => void attempt(() => post(`/api/channels/${channel.id}/${archived ? 'unarchive' : 'archive'}`), changed)}>
          {archived ? 'Unarchive channel' : 'Archive channel'}
        </button>{' '}
        <span className="muted">{archived ? 'Everyone can write in it again.' : 'It becomes read-only for everyone, until unarchived.'}</span>
      </p>
      {role === 'owner' && (
        <TypedConfirm what="channel" name={channel.name} action="Delete channel" onConfirm={() =>
          void attempt(() => api('DELETE', `/api/channels/${channel.id}`), () => {
            invalidate(`/api/groups/${channel.group_id}/channels`);
            navigate(`/groups/${channel.group_id}`);
          })}
        />
      )}
    </details>
  );
}
