import type { AnchorHTMLAttributes } from 'react';
import { followLink } from '../router.ts';

/** An in-app link: a real <a href> (keyboard, new tab, screen readers) that navigates without a reload. */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return <a {...props} onClick={followLink} />;
}
