import { createHash, createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';

const issuer = 'teamspace';
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isUuid = (value: unknown): value is string => typeof value === 'string' && uuid.test(value);
const audience = 'teamspace-api';

/** `epoch`: the user's token epoch (users.token_epoch) when the token was signed. */
export type AccessTokenCheck = { ok: true; userId: string; epoch: number } | { ok: false; reason: 'expired' | 'invalid' };

// Tokens signed before epochs existed carry none: epoch 0, every account's first, so an upgrade signs no one out.
const epochOf = (claim: unknown): number | undefined =>
  claim === undefined ? 0 : Number.isSafeInteger(claim) && (claim as number) >= 0 ? (claim as number) : undefined;

export interface AccessTokens {
  ttlSeconds: number;
  /**
   * A short-lived JWT naming the user and their token epoch; it carries no secrets and no permissions (checked per
   * request). Bumping the epoch ends every access token signed under an older one.
   */
  sign(userId: string, epoch: number): string;
  verify(token: string): AccessTokenCheck;
}

/**
 * Signs and verifies access tokens (HS256). The key is derived once, since jsonwebtoken handed a string
 * re-derives it on every call, and tokens already verified are remembered until they expire, since a client
 * sends the same token with every request until it refreshes it.
 */
export function accessTokens(secret: string, ttlSeconds: number): AccessTokens {
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  const verified = new LRUCache<string, { userId: string; epoch: number; expiresAt: number }>({ max: 10_000 });

  function verifySignature(token: string): AccessTokenCheck {
    try {
      const payload = jwt.verify(token, key, { algorithms: ['HS256'], issuer, audience });
      const epoch = typeof payload === 'string' ? undefined : epochOf(payload.epoch);
      if (typeof payload === 'string' || payload.typ !== 'access' || !isUuid(payload.sub) || !payload.exp || epoch === undefined) {
        return { ok: false, reason: 'invalid' };
      }
      verified.set(token, { userId: payload.sub, epoch, expiresAt: payload.exp * 1000 });
      return { ok: true, userId: payload.sub, epoch };
    } catch (err) {
      return { ok: false, reason: err instanceof jwt.TokenExpiredError ? 'expired' : 'invalid' };
    }
  }

  return {
    ttlSeconds,
    sign: (userId, epoch) =>
      jwt.sign({ typ: 'access', epoch }, key, {
        algorithm: 'HS256', subject: userId, expiresIn: ttlSeconds, issuer, audience, jwtid: randomUUID(),
      }),
    verify(token) {
      const known = verified.get(token);
      if (!known) return verifySignature(token);
      if (known.expiresAt <= Date.now()) return { ok: false, reason: 'expired' };
      return { ok: true, userId: known.userId, epoch: known.epoch };
    },
  };
}

/** An opaque refresh token: 256 random bits. Only its SHA-256 is stored. */
export function newRefreshToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
