// Paths of the app (the server answers every one of them with index.html), and links that change them without
// a reload.
import { useSyncExternalStore, type MouseEvent } from 'react';

export type Route =
  | { view: 'home' }
  | { view: 'login' }
  | { view: 'register' }
  | { view: 'group'; groupId: string }
  | { view: 'channel'; channelId: string; tab: 'content' | 'files'; focus: string | null }
  | { view: 'dms' }
  | { view: 'search' }
  | { view: 'account' }
  | { view: 'not-found' };

const uuid = '([0-9a-fA-F-]{36})';

export function parseRoute(pathname: string, search: string): Route {
  const params = new URLSearchParams(search);
  let m: RegExpMatchArray | null;
  if (pathname === '/' || pathname === '') return { view: 'home' };
  if (pathname === '/login') return { view: 'login' };
  if (pathname === '/register') return { view: 'register' };
  if (pathname === '/dms') return { view: 'dms' };
  if (pathname === '/search') return { view: 'search' };
  if (pathname === '/account') return { view: 'account' };
  if ((m = pathname.match(new RegExp(`^/groups/${uuid}$`)))) return { view: 'group', groupId: m[1]! };
  if ((m = pathname.match(new RegExp(`^/channels/${uuid}(/files)?$`)))) {
    return { view: 'channel', channelId: m[1]!, tab: m[2] ? 'files' : 'content', focus: params.get('focus') };
  }
  return { view: 'not-found' };
}

const listeners = new Set<() => void>();
let location_ = `${location.pathname}${location.search}`;
window.addEventListener('popstate', () => {
  location_ = `${location.pathname}${location.search}`;
  listeners.forEach((l) => l());
});

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location_) return;
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  location_ = to;
  listeners.forEach((l) => l());
}

export function useRoute(): Route {
  const current = useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => location_,
  );
  const url = new URL(current, location.origin);
  return parseRoute(url.pathname, url.search);
}

/** An onClick for <a href>: navigates in the app unless the user asked for a new tab or window. */
export function followLink(event: MouseEvent<HTMLAnchorElement>): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(event.currentTarget.getAttribute('href')!);
}
