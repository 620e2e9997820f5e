import { createHash, randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';

export interface AccessTokenConfig {
  secret: string;
  ttlSeconds: number;
}

const issuer = 'teamspace';
const audience = 'teamspace-api';

/** A short-lived JWT naming the user; it carries no secrets and no permissions (those are checked per request). */
export function signAccessToken(cfg: AccessTokenConfig, userId: string): string {
  return jwt.sign({ typ: 'access' }, cfg.secret, {
    algorithm: 'HS256',
    subject: userId,
    expiresIn: cfg.ttlSeconds,
    issuer,
    audience,
    jwtid: randomUUID(),
  });
}

export type AccessTokenCheck = { ok: true; userId: string } | { ok: false; reason: 'expired' | 'invalid' };

export function verifyAccessToken(cfg: AccessTokenConfig, token: string): AccessTokenCheck {
  try {
    const payload = jwt.verify(token, cfg.secret, { algorithms: ['HS256'], issuer, audience });
    if (typeof payload === 'string' || payload.typ !== 'access' || typeof payload.sub !== 'string') {
      return { ok: false, reason: 'invalid' };
    }
    return { ok: true, userId: payload.sub };
  } catch (err) {
    return { ok: false, reason: err instanceof jwt.TokenExpiredError ? 'expired' : 'invalid' };
  }
}

/** An opaque refresh token: 256 random bits. Only its SHA-256 is stored. */
export function newRefreshToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
