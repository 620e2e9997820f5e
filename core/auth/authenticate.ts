import type { RequestHandler } from 'express';
import { ApiError } from '../errors.ts';
import type { AccessTokens } from './tokens.ts';
import type { AuthUser, SessionUser } from './users.ts';

export type FindUser = (id: string) => Promise<SessionUser | undefined>;

/** Whom a token names, and the token epoch it was signed under (what a connection opened with it keeps). */
export interface TokenSession {
  user: AuthUser;
  epoch: number;
}

function refuse(code: string, message: string): ApiError {
  return new ApiError(401, code, message);
}

/** Resolves a bearer token to an active user, or explains why not. Shared by REST and the WebSocket endpoints. */
export async function userFromToken(
  findUser: FindUser,
  tokens: AccessTokens,
  token: string | undefined,
): Promise<TokenSession> {
  if (!token) throw refuse('unauthorized', 'authentication required: send a bearer access token');
  const check = tokens.verify(token);
  if (!check.ok) {
    throw check.reason === 'expired'
      ? refuse('token_expired', 'access token has expired: refresh it')
      : refuse('invalid_token', 'access token is invalid');
  }
  const found = await findUser(check.userId);
  if (!found) throw refuse('invalid_token', 'access token is invalid');
  if (!found.is_active) throw refuse('account_inactive', 'this account is deactivated');
  // Epochs only grow. A token behind the user's was revoked; one ahead was signed after a bump this instance has
  // not heard of yet (the notification is on its way), so it is the newer one, not a revoked one.
  if (check.epoch < found.token_epoch) {
    throw refuse('session_revoked', 'this session was ended (password changed or sessions revoked): refresh the token or log in again');
  }
  const { token_epoch: _epoch, ...user } = found;
  return { user, epoch: check.epoch };
}

/** Express middleware: requires `Authorization: Bearer <access token>` and puts the user in `res.locals.user`. */
export function authenticate(findUser: FindUser, tokens: AccessTokens): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    res.set('WWW-Authenticate', 'Bearer');
    res.locals.user = (await userFromToken(findUser, tokens, match?.[1])).user;
    res.removeHeader('WWW-Authenticate');
    next();
  };
}
