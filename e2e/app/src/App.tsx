// The shell: sign-in when signed out; else a header, the status bar, the navigation and the current view.
import { lazy, Suspense, useEffect, useState, useSyncExternalStore } from 'react';
import { useResource } from './api.ts';
import type { ChannelInfo, GroupInfo } from './api-types.ts';
import { syncPendingDocuments } from './collab/background-sync.ts';
import { indexedDbAvailable } from './offline-data.ts';
import { navigate, useRoute, type Route } from './router.ts';
import { currentUser, logout, onSessionChange } from './session.ts';
import { Link } from './ui/Link.tsx';
import { kindIcon } from './ui/kinds.ts';
import { StatusBar } from './ui/StatusBar.tsx';
import { AuthView } from './views/AuthView.tsx';
import { ChannelView } from './views/ChannelView.tsx';
import { DmsView } from './views/DmsView.tsx';
import { GroupView } from './views/GroupView.tsx';
import { HomeView } from './views/HomeView.tsx';

const SearchView = lazy(() => import('./views/SearchView.tsx'));
const AccountView = lazy(() => import('./views/AccountView.tsx'));

function useSignedInUser() {
  return useSyncExternalStore(onSessionChange, currentUser);
}

function ChannelLinks({ label, channels, current }: { label: string; channels: ChannelInfo[]; current: string | null }) {
  return (
    <ul aria-label={label}>
      {channels.map((c) => (
        <li key={c.id}>
          <Link href={`/channels/${c.id}`} aria-current={c.id === current ? 'page' : undefined}>
            <span className="kind" aria-hidden="true">{kindIcon[c.type]}</span> {c.name}
          </Link>
        </li>
      ))}
    </ul>
  );
}

function Navigation({ route, onNavigate }: { route: Route; onNavigate: () => void }) {
  const groups = useResource<GroupInfo[]>('/api/groups');
  const channel = useResource<ChannelInfo>(route.view === 'channel' ? `/api/channels/${route.channelId}` : null);
  const groupId = route.view === 'group' ? route.groupId : route.view === 'channel' ? channel.data?.group_id : undefined;
  const channels = useResource<ChannelInfo[]>(groupId ? `/api/groups/${groupId}/channels` : null);
  const current = route.view === 'channel' ? route.channelId : null;
  return (
    <nav className="sidebar" aria-label="Groups and channels" onClick={(e) => (e.target as HTMLElement).closest('a') && onNavigate()}>
      <h2>Groups</h2>
      <ul>
        {groups.data?.map((g) => (
          <li key={g.id}>
            <Link href={`/groups/${g.id}`} aria-current={g.id === groupId ? 'page' : undefined}>{g.name}</Link>
            {g.id === groupId && channels.data && (
              <>
                <ChannelLinks label={`Channels of ${g.name}`} channels={channels.data.filter((c) => !c.archived_at)} current={current} />
                {channels.data.some((c) => c.archived_at) && (
                  <details open={channels.data.some((c) => c.archived_at && c.id === current)}>
                    <summary>Archived</summary>
                    <ChannelLinks label={`Archived channels of ${g.name}`} channels={channels.data.filter((c) => c.archived_at)} current={current} />
                  </details>
                )}
              </>
            )}
          </li>
        ))}
      </ul>
      <p><Link href="/">All groups</Link> · <Link href="/dms">Direct messages</Link></p>
    </nav>
  );
}

function CurrentView({ route }: { route: Route }) {
  switch (route.view) {
    case 'home':
      return <HomeView />;
    case 'group':
      return <GroupView key={route.groupId} groupId={route.groupId} />;
    case 'channel':
      return <ChannelView key={route.channelId} channelId={route.channelId} tab={route.tab} focus={route.focus} />;
    case 'dms':
      return <DmsView />;
    case 'search':
      return <SearchView />;
    case 'account':
      return <AccountView />;
    default:
      return <p role="alert">There is nothing at this address. <Link href="/">Go to your groups</Link>.</p>;
  }
}

export function App() {
  const user = useSignedInUser();
  const route = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const [storageUnavailable, setStorageUnavailable] = useState(false);
  useEffect(() => void indexedDbAvailable.then((ok) => setStorageUnavailable(!ok)), []);
  useEffect(() => {
    if (!user) return;
    syncPendingDocuments();
    window.addEventListener('online', syncPendingDocuments);
    return () => window.removeEventListener('online', syncPendingDocuments);
  }, [user]);
  useEffect(() => {
    if (!user && route.view !== 'login' && route.view !== 'register') navigate('/login', { replace: true });
    if (user && (route.view === 'login' || route.view === 'register')) navigate('/', { replace: true });
  }, [user, route.view]);
  if (!user) return <AuthView mode={route.view === 'register' ? 'register' : 'login'} />;
  return (
    <div className={`app ${menuOpen ? 'menu-open' : ''}`}>
      <header className="topbar">
        <button type="button" className="menu-button" aria-expanded={menuOpen} aria-controls="navigation" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <Link href="/" className="brand">Teamspace</Link>
        <Link href="/search">Ask &amp; search</Link>
        <Link href="/account" className="me" aria-label={`Your account (${user.display_name ?? user.username})`}>{user.display_name ?? user.username}</Link>
        <button type="button" onClick={() => void logout()}>Sign out</button>
      </header>
      <StatusBar storageUnavailable={storageUnavailable} />
      <div id="navigation" className="nav-wrap">
        <Navigation route={route} onNavigate={() => setMenuOpen(false)} />
      </div>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p aria-busy="true">Loading…</p>}>
          <CurrentView route={route} />
        </Suspense>
      </main>
    </div>
  );
}
