import type { Router } from 'express';
import type pg from 'pg';
import { verifyDecoy, verifyPassword } from '../auth/passwords.ts';
import { loginRateLimit, type RateLimitConfig } from '../auth/rate-limit.ts';
import { findUserForLogin } from '../../core/auth/users.ts';
import { recordAdminAction } from './audit.ts';
import { cookie, cookieOptions, LOGIN_COOKIE, refuse, SESSION_COOKIE } from './guard.ts';
import { html } from './html.ts';
import { flash, page, send } from './layout.ts';
import { randomToken, sameToken, startAdminSession, type SessionLimits } from './sessions.ts';

const LOGIN_FORM_SECONDS = 3600;

function loginPage(token: string, error?: string) {
  return page('Log in', html`${flash('error', error)}
    <form method="post" action="/admin/login" aria-label="Log in">
      <input type="hidden" name="_csrf" value="${token}">
      <p><label>Username or email <input name="username" autocomplete="username" required></label></p>
      <p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
      <p><button type="submit">Log in</button></p>
    </form><p class="muted">For superusers only: <code>npm run admin:create</code> makes one.</p>`);
}

/**
 * The login, rate limited like the API's (per address, and failed attempts per account). Before there is a session,
 * the form's CSRF token is a random value also set in a cookie of its own (double submit): another site can neither
 * read it nor, with SameSite=Strict, send the cookie.
 */
export function mountLogin(router: Router, db: pg.Pool, limits: SessionLimits, rate: RateLimitConfig): void {
  router.get('/admin/login', (req, res) => {
    const token = randomToken();
    res.cookie(LOGIN_COOKIE, token, cookieOptions(req, LOGIN_FORM_SECONDS));
    send(res, loginPage(token));
  });

  router.post('/admin/login', ...loginRateLimit(rate), async (req, res) => {
    const expected = cookie(req, LOGIN_COOKIE);
    if (!expected || !sameToken(req.body?._csrf, expected)) {
      return refuse(res, 403, 'Refused', 'The form carried no valid CSRF token: reload the login page and try again.');
    }
    const username = typeof req.body.username === 'string' ? req.body.username : '';
    const password = typeof req.body.password === 'string' ? req.body.password : '';
    const user = await findUserForLogin(db, username);
    const valid = user ? await verifyPassword(user.password_hash, password) : await verifyDecoy(password);
    const superuser = user && valid && (await db.query('SELECT 1 FROM users WHERE id = $1 AND is_superuser AND is_active', [user.id])).rowCount;
    if (!user || !superuser) {
      // One answer for a wrong password and for an account that may not enter: the form tells nothing more.
      return send(res, loginPage(expected, 'Wrong username or password, or not an active superuser.'), 401);
    }
    const id = await startAdminSession(db, user.id, limits);
    await recordAdminAction(db, { actorId: user.id, action: 'session.login', targetType: 'session', targetId: null });
    res.clearCookie(LOGIN_COOKIE, { path: '/admin' });
    res.cookie(SESSION_COOKIE, id, cookieOptions(req, limits.maxSeconds));
    res.redirect(303, '/admin');
  });
}
