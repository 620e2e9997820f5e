import type { FormEvent } from 'react';
import { api, invalidate, post, useResource } from '../api.ts';
import type { ChannelInfo, GroupInfo, MemberInfo, RoleName } from '../api-types.ts';
import { refreshPeople } from '../people.ts';
import { navigate } from '../router.ts';
import { currentUser } from '../session.ts';
import { useAttempt } from '../ui/attempt.ts';
import { ErrorLine, Field } from '../ui/Form.tsx';
import { kindIcon } from '../ui/kinds.ts';
import { Link } from '../ui/Link.tsx';
import { GroupSettings } from './GroupSettings.tsx';

const channelKinds = [
  ['TEXT', 'Chat'],
  ['TODO', 'Task list'],
  ['DOC', 'Page'],
  ['KANBAN', 'Board'],
  ['VOICE', 'Call'],
] as const;
const roles: RoleName[] = ['owner', 'admin', 'member', 'viewer'];

/** What the caller's role lets them do to a member with `role` (the server enforces it; the view just hides). */
function ChannelCards({ channels }: { channels: ChannelInfo[] }) {
  return (
    <ul className="cards">
      {channels.map((c) => (
        <li key={c.id}>
          <Link href={`/channels/${c.id}`}><span aria-hidden="true">{kindIcon[c.type]}</span> {c.name}</Link>
          {c.description && <p className="muted">{c.description}</p>}
        </li>
      ))}
    </ul>
  );
}

function canManage(mine: RoleName | undefined, theirs: RoleName): boolean {
  if (mine === 'owner') return true;
  return mine === 'admin' && (theirs === 'member' || theirs === 'viewer');
}

export function GroupView({ groupId }: { groupId: string }) {
  const group = useResource<GroupInfo>(`/api/groups/${groupId}`);
  const channels = useResource<ChannelInfo[]>(`/api/groups/${groupId}/channels`);
  const members = useResource<MemberInfo[]>(`/api/groups/${groupId}/members`);
  const { error, attempt } = useAttempt();
  const me = currentUser();
  const myRole = group.data?.role;
  const membersChanged = () => {
    refreshPeople();
    invalidate(`/api/groups/${groupId}/members`);
  };
  const createChannel = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const target = event.currentTarget;
    void attempt(
      () => post<ChannelInfo>(`/api/groups/${groupId}/channels`, { name: String(form.get('name')), type: String(form.get('type')) }),
      () => {
        target.reset();
        invalidate(`/api/groups/${groupId}/channels`);
      },
    );
  };
  const addMember = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const target = event.currentTarget;
    void attempt(
      () => post(`/api/groups/${groupId}/members`, { username: String(form.get('username')), role: String(form.get('role')) }),
      () => {
        target.reset();
        membersChanged();
      },
    );
  };
  const message = (userId: string) =>
    void attempt(async () => {
        const dm = await post<ChannelInfo>('/api/dms', { user_id: userId });
        invalidate('/api/dms');
        navigate(`/channels/${dm.id}`);
      }, () => undefined);
  if (!group.data) return <ErrorLine error={group.error} />;
  const active = channels.data?.filter((c) => c.archived_at === null) ?? [];
  const archived = channels.data?.filter((c) => c.archived_at !== null) ?? [];
  return (
    <>
      <h1>{group.data.name}</h1>
      {group.data.description && <p>{group.data.description}</p>}
      <ErrorLine error={error} />
      <section aria-label="Channels">
        <h2>Channels</h2>
        <ChannelCards channels={active} />
        {myRole !== 'viewer' && (
          <form onSubmit={createChannel} aria-label="New channel" className="inline">
            <Field label="Channel name" name="name" required maxLength={80} />
            <label className="field">
              <span>Type</span>
              <select name="type" defaultValue="TEXT">
                {channelKinds.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
              </select>
            </label>
            <button type="submit">Create channel</button>
          </form>
        )}
      </section>
      {archived.length > 0 && (
        <section aria-label="Archived channels">
          <h2>Archived channels</h2>
          <p className="muted">Read-only: an owner or admin can unarchive them in their settings.</p>
          <ChannelCards channels={archived} />
        </section>
      )}
      <section aria-label="Members">
        <h2>Members</h2>
        <table>
          <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {members.data?.map((m) => (
              <tr key={m.user_id}>
                <td>{m.display_name ?? m.username} <span className="muted">@{m.username}</span></td>
                <td>
                  {canManage(myRole, m.role) && m.user_id !== me?.id ? (
                    <select
                      aria-label={`Role of ${m.username}`}
                      value={m.role}
                      onChange={(e) => void attempt(() => api('PATCH', `/api/groups/${groupId}/members/${m.user_id}`, { role: e.target.value }), membersChanged)}
                    >
                      {roles.filter((r) => myRole === 'owner' || r === 'member' || r === 'viewer').map((r) => <option key={r}>{r}</option>)}
                    </select>
                  ) : m.role}
                </td>
                <td>
                  {m.user_id !== me?.id && <button type="button" onClick={() => message(m.user_id)}>Message</button>}
                  {m.user_id === me?.id ? (
                    <button type="button" onClick={() => void attempt(() => api('DELETE', `/api/groups/${groupId}/members/${m.user_id}`), () => {
                      invalidate('/api/groups');
                      navigate('/');
                    })}>Leave group</button>
                  ) : canManage(myRole, m.role) && (
                    <button type="button" onClick={() => void attempt(() => api('DELETE', `/api/groups/${groupId}/members/${m.user_id}`), membersChanged)}>Remove</button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {(myRole === 'owner' || myRole === 'admin') && (
          <form onSubmit={addMember} aria-label="Add a member" className="inline">
            <Field label="Username" name="username" required maxLength={32} />
            <label className="field">
              <span>Role</span>
              <select name="role" defaultValue="member">
                {roles.filter((r) => myRole === 'owner' || r === 'member' || r === 'viewer').map((r) => <option key={r}>{r}</option>)}
              </select>
            </label>
            <button type="submit">Add member</button>
          </form>
        )}
      </section>
      <GroupSettings group={group.data} />
    </>
  );
}
