import type { RequestHandler } from 'express';
import { ApiError } from '../errors.ts';
import type { AccessTokens } from './tokens.ts';
import type { AuthUser } from './users.ts';

export type FindUser = (id: string) => Promise<AuthUser | undefined>;

function refuse(code: string, message: string): ApiError {
  return new ApiError(401, code, message);
}

/** Resolves a bearer token to an active user, or explains why not. Shared by REST and the WebSocket endpoints. */
export async function userFromToken(
  findUser: FindUser,
  tokens: AccessTokens,
  token: string | undefined,
): Promise<AuthUser> {
  if (!token) throw refuse('unauthorized', 'authentication required: send a bearer access token');
  const check = tokens.verify(token);
  if (!check.ok) {
    throw check.reason === 'expired'
      ? refuse('token_expired', 'access token has expired: refresh it')
      : refuse('invalid_token', 'access token is invalid');
  }
  const user = await findUser(check.userId);
  if (!user) throw refuse('invalid_token', 'access token is invalid');
  if (!user.is_active) throw refuse('account_inactive', 'this account is deactivated');
  return user;
}

/** Express middleware: requires `Authorization: Bearer <access token>` and puts the user in `res.locals.user`. */
export function authenticate(findUser: FindUser, tokens: AccessTokens): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    res.set('WWW-Authenticate', 'Bearer');
    res.locals.user = await userFromToken(findUser, tokens, match?.[1]);
    res.removeHeader('WWW-Authenticate');
    next();
  };
}
