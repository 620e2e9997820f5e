import { useState, type FormEvent } from 'react';
import { invalidate, post, useResource, type ApiError } from '../api.ts';
import type { GroupInfo } from '../api-types.ts';
import { navigate } from '../router.ts';
import { ErrorLine, Field } from '../ui/Form.tsx';
import { Link } from '../ui/Link.tsx';

export function HomeView() {
  const groups = useResource<GroupInfo[]>('/api/groups');
  const [error, setError] = useState<ApiError | null>(null);
  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      const group = await post<GroupInfo>('/api/groups', { name: String(form.get('name')), description: String(form.get('description') ?? '') });
      invalidate('/api/groups');
      navigate(`/groups/${group.id}`);
    } catch (e) {
      setError(e as ApiError);
    }
  };
  return (
    <>
      <h1>Your groups</h1>
      <ErrorLine error={groups.data ? undefined : groups.error} />
      {groups.data?.length === 0 && <p>You are in no group yet. Create one, or ask a group's admin to add you.</p>}
      <ul className="cards">
        {groups.data?.map((g) => (
          <li key={g.id}>
            <Link href={`/groups/${g.id}`}>{g.name}</Link> <span className="muted">({g.role})</span>
            {g.description && <p>{g.description}</p>}
          </li>
        ))}
      </ul>
      <form onSubmit={create} aria-label="New group" className="inline">
        <h2>New group</h2>
        <Field label="Name" name="name" required maxLength={100} />
        <Field label="Description" name="description" maxLength={1000} />
        <ErrorLine error={error} />
        <button type="submit">Create group</button>
      </form>
    </>
  );
}
