import { useResource } from '../api.ts';
import type { ChannelInfo } from '../api-types.ts';
import { nameOf, usePeople } from '../people.ts';
import { currentUser } from '../session.ts';
import { ErrorLine } from '../ui/Form.tsx';
import { Link } from '../ui/Link.tsx';

export function DmsView() {
  const dms = useResource<ChannelInfo[]>('/api/dms');
  const people = usePeople();
  const me = currentUser();
  return (
    <>
      <h1>Direct messages</h1>
      <ErrorLine error={dms.data ? undefined : dms.error} />
      {dms.data?.length === 0 && <p>No conversations yet: open a group's members and choose "Message".</p>}
      <ul className="cards">
        {dms.data?.map((dm) => (
          <li key={dm.id}>
            <Link href={`/channels/${dm.id}`}>{nameOf(people, dm.participant_ids?.find((id) => id !== me?.id) ?? me?.id)}</Link>
          </li>
        ))}
      </ul>
    </>
  );
}
