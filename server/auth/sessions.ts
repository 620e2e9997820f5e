import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { inTransaction, type Queryable } from '../../core/db/database.ts';
import { hashRefreshToken, newRefreshToken, type AccessTokens } from '../../core/auth/tokens.ts';

export interface SessionConfig {
  tokens: AccessTokens;
  refreshTtlDays: number;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
}

/** Whom a pair is for: the access token carries the user's current token epoch (migration 013). */
export interface TokenOwner {
  id: string;
  token_epoch: number;
}

async function issuePair(db: Queryable, cfg: SessionConfig, owner: TokenOwner, familyId: string): Promise<TokenPair> {
  const refresh = newRefreshToken();
  await db.query(
    `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, token_epoch)
     VALUES ($1, $2, $3, now() + make_interval(days => $4), $5)`,
    [owner.id, familyId, refresh.hash, cfg.refreshTtlDays, owner.token_epoch],
  );
  return {
    access_token: cfg.tokens.sign(owner.id, owner.token_epoch),
    refresh_token: refresh.token,
    token_type: 'bearer',
    expires_in: cfg.tokens.ttlSeconds,
  };
}

/** A login: a new token family. */
export function startSession(db: Queryable, cfg: SessionConfig, owner: TokenOwner): Promise<TokenPair> {
  return issuePair(db, cfg, owner, randomUUID());
}

export type RefreshOutcome =
  | { ok: true; pair: TokenPair }
  | { ok: false; reason: 'unknown' | 'expired' | 'reused' | 'inactive' | 'revoked' };

/**
 * Spends a refresh token and issues its successor in the same family. A token that was already spent (or whose
 * family was revoked) means it leaked: the whole family is revoked, logging out the thief and the owner alike.
 */
export async function rotateSession(pool: pg.Pool, cfg: SessionConfig, token: string): Promise<RefreshOutcome> {
  const hash = hashRefreshToken(token);
  return inTransaction(pool, async (tx) => {
    // The user's row first, as revocations take it (its epoch, then its refresh tokens): a refresh and a revocation
    // of one account run one after the other, so no refresh slips a new token past a revocation.
    await tx.query('SELECT 1 FROM users WHERE id = (SELECT user_id FROM refresh_tokens WHERE token_hash = $1) FOR SHARE', [hash]);
    const { rows } = await tx.query<{
      user_id: string;
      family_id: string;
      spent: boolean;
      expired: boolean;
      is_active: boolean;
      token_epoch: number;
      behind: boolean;
    }>(
      `SELECT t.user_id, t.family_id, (t.used_at IS NOT NULL OR t.revoked_at IS NOT NULL) AS spent,
              t.expires_at <= now() AS expired, u.is_active, u.token_epoch, t.token_epoch < u.token_epoch AS behind
         FROM refresh_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = $1 FOR UPDATE OF t`,
      [hash],
    );
    const row = rows[0];
    if (!row) return { ok: false, reason: 'unknown' };
    if (row.spent) {
      await revokeFamily(tx, row.family_id);
      return { ok: false, reason: 'reused' };
    }
    if (row.expired) return { ok: false, reason: 'expired' };
    if (!row.is_active) {
      await revokeFamily(tx, row.family_id);
      return { ok: false, reason: 'inactive' };
    }
    // Issued under an epoch that has since ended (a login that raced a revocation): that login is over too.
    if (row.behind) {
      await revokeFamily(tx, row.family_id);
      return { ok: false, reason: 'revoked' };
    }
    await tx.query('UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1', [hash]);
    return { ok: true, pair: await issuePair(tx, cfg, { id: row.user_id, token_epoch: row.token_epoch }, row.family_id) };
  });
}

async function revokeFamily(db: Queryable, familyId: string): Promise<void> {
  await db.query('UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [
    familyId,
  ]);
}

/** Logout: revokes the family of the given token; unknown tokens are ignored so logout never leaks validity. */
export async function endSession(db: Queryable, token: string): Promise<void> {
  await db.query(
    `UPDATE refresh_tokens SET revoked_at = now()
      WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL`,
    [hashRefreshToken(token)],
  );
}
