import type { Router } from 'express';
import { authEndpoints as api } from '../../schema/index.ts';
import type { AppContext } from '../context.ts';
import { conflict, unauthorized } from '../../core/errors.ts';
import { mounter } from '../http/route.ts';
import { hashPassword, verifyDecoy, verifyPassword } from './passwords.ts';
import { endSession, rotateSession, startSession } from './sessions.ts';
import { findUserForLogin, insertUser } from '../../core/auth/users.ts';

const refreshRefusals = {
  unknown: 'refresh token is invalid',
  expired: 'refresh token has expired: log in again',
  reused: 'refresh token was already used: every session of this login is revoked, log in again',
  inactive: 'this account is deactivated',
  revoked: 'this login was ended (password changed or sessions revoked): log in again',
} as const;

export function mountAuthRoutes(router: Router, app: AppContext): void {
  const route = mounter(router, app);
  const { db, sessions, log } = app;

  route(api.register, async ({ body }) => {
    const password_hash = await hashPassword(body.password);
    // A new account is an active person: it takes a seat, or is refused with 403 license_required.
    const user = await app.licensing.withSeat((client) =>
      insertUser(client, { username: body.username, email: body.email, display_name: body.display_name, password_hash }),
    );
    if (!user) throw conflict('that username or email is already registered');
    log.info({ user_id: user.id }, 'user registered');
    return user;
  });

  route(api.token, async ({ body, res }) => {
    res.set('Cache-Control', 'no-store');
    const user = await findUserForLogin(db, body.username);
    const valid = user ? await verifyPassword(user.password_hash, body.password) : await verifyDecoy(body.password);
    if (!user || !valid) throw unauthorized('wrong username or password', 'invalid_credentials');
    if (!user.is_active) throw unauthorized('this account is deactivated', 'account_inactive');
    return startSession(db, sessions, user);
  });

  route(api.refresh, async ({ body, res }) => {
    res.set('Cache-Control', 'no-store');
    const outcome = await rotateSession(db, sessions, body.refresh_token);
    if (!outcome.ok) {
      if (outcome.reason === 'reused') log.warn('refresh token reuse: token family revoked');
      throw unauthorized(refreshRefusals[outcome.reason], outcome.reason === 'inactive' ? 'account_inactive' : 'invalid_grant');
    }
    return outcome.pair;
  });

  route(api.logout, async ({ body }) => {
    await endSession(db, body.refresh_token);
  });

  route(api.me, async ({ user }) => user);
}
