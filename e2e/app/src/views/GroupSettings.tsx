// A group's settings, for owners and admins: its name and description; owners also delete it, with every channel
// and everything in them, after typing its name.
import { api, invalidate } from '../api.ts';
import type { GroupInfo } from '../api-types.ts';
import { navigate } from '../router.ts';
import { useAttempt } from '../ui/attempt.ts';
import { ErrorLine } from '../ui/Form.tsx';
import { RenameForm } from '../ui/RenameForm.tsx';
import { TypedConfirm } from '../ui/TypedConfirm.tsx';

export function GroupSettings({ group }: { group: GroupInfo }) {
  const { error, attempt } = useAttempt();
  if (group.role !== 'owner' && group.role !== 'admin') return null;
  return (
    <section aria-label="Group settings">
      <h2>Group settings</h2>
      <ErrorLine error={error} />
      <RenameForm what="group" current={group} maxName={100} onSave={(naming) =>
        void attempt(() => api('PATCH', `/api/groups/${group.id}`, naming), () => invalidate('/api/groups'))}
      />
      {group.role === 'owner' && (
        <TypedConfirm what="group" name={group.name} action="Delete group" onConfirm={() =>
          void attempt(() => api('DELETE', `/api/groups/${group.id}`), () => {
            invalidate('/api/groups');
            navigate('/');
          })}
        />
      )}
    </section>
  );
}
