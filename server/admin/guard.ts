import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import type pg from 'pg';
import { html } from './html.ts';
import { page, send, type Viewer } from './layout.ts';
import { resumeAdminSession, sameToken, type SessionLimits } from './sessions.ts';

export const SESSION_COOKIE = 'teamspace_admin';
export const LOGIN_COOKIE = 'teamspace_admin_login';

/** One cookie of the request, by name (the console reads only its own two). */
export function cookie(req: Request, name: string): string | undefined {
  for (const pair of (req.get('cookie') ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === name) return decodeURIComponent(pair.slice(at + 1).trim());
  }
  return undefined;
}

/**
 * The console's cookies: never readable by scripts, never sent by another site's request, only over https when the
 * request came over https (directly or, with TRUST_PROXY, through a proxy), and only to /admin.
 */
export function cookieOptions(req: Request, maxSeconds: number): CookieOptions {
  return { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/admin', maxAge: maxSeconds * 1000 };
}

export function refuse(res: Response, status: number, title: string, message: string, viewer?: Viewer): void {
  send(res, page(title, html`<p class="flash error" role="alert">${message}</p>`, viewer), status);
}

/**
 * Every page past the login: a live session in the console's cookie, whose user is an active superuser (an API
 * token opens nothing here: the Authorization header is never read). Pages redirect to the login; actions are
 * refused. Every POST must carry the session's CSRF token in `_csrf`.
 */
export function requireSuperuser(db: pg.Pool, limits: SessionLimits): RequestHandler {
  return async (req, res, next) => {
    const id = cookie(req, SESSION_COOKIE);
    const viewer = id ? await resumeAdminSession(db, id, limits) : undefined;
    if (!viewer) {
      if (id) res.clearCookie(SESSION_COOKIE, { path: '/admin' });
      if (req.method === 'GET') return res.redirect(303, '/admin/login');
      return refuse(res, 401, 'Signed out', 'Your console session has ended (or never began): log in again.');
    }
    if (req.method === 'POST' && !sameToken(req.body?._csrf, viewer.csrf)) {
      return refuse(res, 403, 'Refused', 'The form carried no valid CSRF token: reload the page and try again.', viewer);
    }
    res.locals.viewer = viewer;
    next();
  };
}

export const viewerOf = (res: Response): Viewer => res.locals.viewer as Viewer;
