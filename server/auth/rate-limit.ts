import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit, type Options } from 'express-rate-limit';
import { ApiError } from '../../core/errors.ts';

export interface RateLimitConfig {
  limit: number;
  windowSeconds: number;
}

function limiter(name: string, cfg: RateLimitConfig, extra: Partial<Options> = {}): RequestHandler {
  return rateLimit({
    windowMs: cfg.windowSeconds * 1000,
    limit: cfg.limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: name,
    handler: (_req: Request, _res: Response, next: NextFunction) => {
      next(new ApiError(429, 'rate_limited', `too many attempts: wait up to ${cfg.windowSeconds} s and retry`));
    },
    ...extra,
  });
}

/** The account a login names, bounded in size so a hostile body cannot bloat the limiter's memory. */
const accountKey = (req: Request) => `account:${String(req.body.username).slice(0, 254).toLowerCase()}`;

/**
 * Login: every attempt counts against the client address; failed attempts also count against the account,
 * from whatever address, so many addresses cannot guess one password faster than the limit. Successful logins
 * do not count against the account, so its owner is not locked out by their own logins.
 */
export function loginRateLimit(cfg: RateLimitConfig): RequestHandler[] {
  return [
    limiter('login-address', cfg),
    limiter('login-account', cfg, {
      skip: (req) => typeof req.body?.username !== 'string',
      keyGenerator: accountKey,
      skipSuccessfulRequests: true,
    }),
  ];
}

/** Registration: attempts per client address (separate from logins, so signing up cannot lock anyone out). */
export function registerRateLimit(cfg: RateLimitConfig): RequestHandler[] {
  return [limiter('register-address', cfg)];
}

/**
 * Confirming one's own password (changing it, deleting the account): failed attempts per client address, so a
 * stolen access token cannot be used to guess the password faster than logins could.
 */
export function passwordConfirmRateLimit(cfg: RateLimitConfig): RequestHandler[] {
  return [limiter('password-confirm-address', cfg, { skipSuccessfulRequests: true })];
}
