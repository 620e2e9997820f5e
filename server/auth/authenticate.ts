import type { RequestHandler } from 'express';
import type { Queryable } from '../db/database.ts';
import { ApiError } from '../http/errors.ts';
import { verifyAccessToken, type AccessTokenConfig } from './tokens.ts';
import { findUserById, type AuthUser } from './users.ts';

function refuse(code: string, message: string): ApiError {
  return new ApiError(401, code, message);
}

/** Resolves a bearer token to an active user, or explains why not. Shared by REST and the WebSocket endpoints. */
export async function userFromToken(
  db: Queryable,
  cfg: AccessTokenConfig,
  token: string | undefined,
): Promise<AuthUser> {
  if (!token) throw refuse('unauthorized', 'authentication required: send a bearer access token');
  const check = verifyAccessToken(cfg, token);
  if (!check.ok) {
    throw check.reason === 'expired'
      ? refuse('token_expired', 'access token has expired: refresh it')
      : refuse('invalid_token', 'access token is invalid');
  }
  const user = await findUserById(db, check.userId);
  if (!user) throw refuse('invalid_token', 'access token is invalid');
  if (!user.is_active) throw refuse('account_inactive', 'this account is deactivated');
  return user;
}

/** Express middleware: requires `Authorization: Bearer <access token>` and puts the user in `res.locals.user`. */
export function authenticate(db: Queryable, cfg: AccessTokenConfig): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    res.set('WWW-Authenticate', 'Bearer');
    res.locals.user = await userFromToken(db, cfg, match?.[1]);
    res.removeHeader('WWW-Authenticate');
    next();
  };
}
