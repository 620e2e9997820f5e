import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { ApiError } from '../http/errors.ts';

export interface RateLimitConfig {
  limit: number;
  windowSeconds: number;
}

/**
 * Limits attempts per client address, and separately per account name, so one address cannot hammer many
 * accounts and many addresses cannot hammer one account faster than the limit allows.
 */
export function authRateLimit(cfg: RateLimitConfig): RequestHandler[] {
  const common = {
    windowMs: cfg.windowSeconds * 1000,
    limit: cfg.limit,
    standardHeaders: 'draft-8' as const,
    legacyHeaders: false,
    handler: (_req: Request, _res: Response, next: NextFunction) => {
      next(new ApiError(429, 'rate_limited', `too many attempts: wait up to ${cfg.windowSeconds} s and retry`));
    },
  };
  const perAddress = rateLimit({ ...common, identifier: 'auth-address' });
  const perAccount = rateLimit({
    ...common,
    identifier: 'auth-account',
    skip: (req) => typeof req.body?.username !== 'string',
    keyGenerator: (req) => `account:${String(req.body.username).toLowerCase()}`,
  });
  return [perAddress, perAccount];
}
